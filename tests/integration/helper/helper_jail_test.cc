// jail_start and jail_remove through the real helper. No jailer binary is
// available here, so the helper runs a stand-in script that records how it
// was started and then waits, as a jailed Firecracker waits for its API;
// everything the helper itself does (checks, the jail directory, the hard
// links, the spawn with the console descriptor, the record, the cleanup)
// runs for real.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper/protocol/protocol.h"
#include "reconciler/os/process.h"
#include "tests/integration/helper/helper_fixture.h"
#include "tests/integration/helper/raw_socket.h"

namespace banger::testing {
namespace {

constexpr const char* kFakeJailer = R"(#!/bin/sh
# Stand-in for Firecracker's jailer: writes its arguments into the jail
# root, says so on stdout (the console) and waits to be killed.
all="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --id) id=$2; shift 2 ;;
    --exec-file) exec_file=$2; shift 2 ;;
    --chroot-base-dir) base=$2; shift 2 ;;
    --) shift; break ;;
    *) shift 2 ;;
  esac
done
root="$base/$(basename "$exec_file")/$id/root"
printf '%s\n' "$all" > "$root/jailer.args"
echo "jailer up in $id"
exec sleep 300
)";

// The scratch layout of a jail test: root-owned binaries, the owner's
// kernel and disks, and the jail base, all on the scratch filesystem.
struct JailScene {
  std::string dir;
  std::string jailer, firecracker, base;
  std::string kernel, initrd, rootfs, work;

  explicit JailScene(const std::string& scratch) : dir(JoinPath(scratch, "scene")) {
    REQUIRE(MakeDirs(dir, 0755).ok());
    jailer = WriteFile(dir, "bin/jailer", kFakeJailer);
    firecracker = WriteFile(dir, "bin/firecracker", "not run by the stand-in");
    REQUIRE(chmod(jailer.c_str(), 0755) == 0);
    REQUIRE(chmod(firecracker.c_str(), 0755) == 0);
    base = JoinPath(dir, "jail");
    kernel = Owned("vm/vmlinux");
    initrd = Owned("vm/initrd.img");
    rootfs = Owned("vm/rootfs.ext4");
    work = Owned("vm/work.ext4");
  }

  std::string Owned(const std::string& name) {
    std::string path = WriteFile(dir, name, name);
    REQUIRE(chown(path.c_str(), kTestOwner, kTestOwner) == 0);
    return path;
  }

  std::vector<std::string> ServeArgs() const {
    return {"--jailer", jailer, "--firecracker", firecracker, "--jail-dir", base};
  }

  helper::JailStartRequest Request(const std::string& vm) const {
    return {vm, kernel, initrd, {{"rootfs", rootfs}, {"work", work}}};
  }
};

struct Pipe {
  UniqueFd read, write;
  Pipe() {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    read = UniqueFd(fds[0]);
    write = UniqueFd(fds[1]);
  }
  // What arrives within `ms` milliseconds (until the first newline).
  std::string ReadLine(int ms) {
    std::string line;
    char c;
    while (line.find('\n') == std::string::npos) {
      pollfd p{read.get(), POLLIN, 0};
      if (poll(&p, 1, ms) <= 0 || ::read(read.get(), &c, 1) != 1) break;
      line += c;
    }
    return line;
  }
};

ino_t Inode(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

TEST_CASE("jail_start links the owner's files into a fresh jail and starts the jailer there") {
  TempDir scratch = ScratchDir("banger-jail-");
  JailScene scene(scratch.path());
  HelperFixture fx(scene.ServeArgs());
  auto client = fx.Client();

  Pipe console;
  auto started = client.StartJail(scene.Request("web"), console.write.get());
  REQUIRE(started.ok());
  console.write.Reset();  // only the jailer holds the write end now
  fx.TrackProcess(static_cast<pid_t>(started->pid));
  const std::string jail = JoinPath(scene.base, "firecracker/banger-4242-web");
  CHECK(started->root == JoinPath(jail, "root"));
  CHECK(ProcessAlive(static_cast<pid_t>(started->pid), 0));

  // Its stdout is the descriptor the request carried.
  CHECK(console.ReadLine(5000) == "jailer up in banger-4242-web\n");
  auto args = ReadFile(JoinPath(started->root, "jailer.args"));
  REQUIRE(args.ok());
  CHECK(*args == "--id banger-4242-web --exec-file " + scene.firecracker +
                     " --uid 4242 --gid 4242 --chroot-base-dir " + scene.base +
                     " -- --api-sock /firecracker.sock\n");

  // Hard links to the owner's own files, under the names the engine uses.
  CHECK(Inode(JoinPath(started->root, helper::kJailKernel)) == Inode(scene.kernel));
  CHECK(Inode(JoinPath(started->root, helper::kJailInitrd)) == Inode(scene.initrd));
  CHECK(Inode(JoinPath(started->root, helper::JailDriveName("rootfs"))) == Inode(scene.rootfs));
  CHECK(Inode(JoinPath(started->root, helper::JailDriveName("work"))) == Inode(scene.work));

  // One jailed Firecracker per VM.
  Pipe again;
  auto twice = client.StartJail(scene.Request("web"), again.write.get());
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().code() == Code::kBusy);
  CHECK(twice.error().message() == "start the jail of vm 'web': its jailed Firecracker (pid " +
                                       std::to_string(started->pid) + ") is still running");

  REQUIRE(client.RemoveJail("web").ok());
  CHECK_FALSE(ProcessAlive(static_cast<pid_t>(started->pid), 0));
  CHECK_FALSE(PathExists(jail));
  CHECK(PathExists(scene.rootfs));  // the owner's files stay
  CHECK(client.RemoveJail("web").ok());  // nothing left: still success
  CHECK(fx.Teardown().empty());
}

TEST_CASE("a jail whose Firecracker died is replaced by the next jail_start") {
  TempDir scratch = ScratchDir("banger-jail-");
  JailScene scene(scratch.path());
  HelperFixture fx(scene.ServeArgs());
  auto client = fx.Client();
  Pipe first;
  auto a = client.StartJail(scene.Request("db"), first.write.get());
  REQUIRE(a.ok());
  fx.TrackProcess(static_cast<pid_t>(a->pid));
  REQUIRE(KillProcess(static_cast<pid_t>(a->pid), 0).ok());
  Pipe second;
  auto b = client.StartJail(scene.Request("db"), second.write.get());
  REQUIRE(b.ok());
  fx.TrackProcess(static_cast<pid_t>(b->pid));
  CHECK(b->pid != a->pid);
  CHECK(b->root == a->root);
  REQUIRE(client.RemoveJail("db").ok());
  CHECK(fx.Teardown().empty());
}

TEST_CASE("jail_start refuses files that are not the owner's and symlinks, leaving nothing") {
  TempDir scratch = ScratchDir("banger-jail-");
  JailScene scene(scratch.path());
  HelperFixture fx(scene.ServeArgs());
  auto client = fx.Client();
  const std::string jail = JoinPath(scene.base, "firecracker/banger-4242-web");

  helper::JailStartRequest roots = scene.Request("web");
  roots.kernel = WriteFile(scene.dir, "vm/root-kernel", "k");  // stays root's
  Pipe p1;
  auto refused = client.StartJail(roots, p1.write.get());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code() == Code::kPermissionDenied);
  CHECK(refused.error().message() ==
        "start the jail of vm 'web': stage jail " + Quote(jail) + ": link " +
            Quote(roots.kernel) + ": the file belongs to uid 0, not the owner 4242");
  CHECK_FALSE(PathExists(jail));

  helper::JailStartRequest linked = scene.Request("web");
  std::string link = JoinPath(scene.dir, "vm/link.ext4");
  REQUIRE(symlink(scene.rootfs.c_str(), link.c_str()) == 0);
  linked.drives[0].path = link;
  Pipe p2;
  auto via_link = client.StartJail(linked, p2.write.get());
  REQUIRE_FALSE(via_link.ok());
  CHECK(via_link.error().message() == "start the jail of vm 'web': stage jail " + Quote(jail) +
                                          ": link " + Quote(link) + ": not a regular file");
  CHECK_FALSE(PathExists(jail));

  // Hard links cannot leave the jail's filesystem; say so when a disk lives
  // elsewhere (only checkable where /dev/shm is another filesystem).
  struct stat shm {}, here {};
  if (stat("/dev/shm", &shm) == 0 && stat(scene.dir.c_str(), &here) == 0 &&
      shm.st_dev != here.st_dev) {
    auto made = TempDir::Create("/dev/shm", "banger-jail-");
    REQUIRE(made.ok());
    TempDir elsewhere = std::move(made).value();
    std::string far = WriteFile(elsewhere.path(), "far.ext4", "x");
    REQUIRE(chown(far.c_str(), kTestOwner, kTestOwner) == 0);
    helper::JailStartRequest cross = scene.Request("web");
    cross.drives[1].path = far;
    Pipe p3;
    auto exdev = client.StartJail(cross, p3.write.get());
    REQUIRE_FALSE(exdev.ok());
    CHECK(exdev.error().code() == Code::kFailedPrecondition);
    CHECK(exdev.error().message().find("hard links cannot cross filesystems") !=
          std::string::npos);
    CHECK_FALSE(PathExists(jail));
  }
  CHECK(fx.Teardown().empty());
}

TEST_CASE("without --jailer, or without its console descriptor, jail_start is refused") {
  TempDir scratch = ScratchDir("banger-jail-");
  JailScene scene(scratch.path());
  {
    HelperFixture plain;
    Pipe console;
    auto r = plain.Client().StartJail(scene.Request("web"), console.write.get());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kFailedPrecondition);
    CHECK(r.error().message() ==
          "start the jail of vm 'web': this helper was started without --jailer; restart it "
          "with --jailer PATH --firecracker PATH");
    CHECK(plain.Teardown().empty());
  }
  HelperFixture fx(scene.ServeArgs());
  UniqueFd raw = ConnectRaw(fx.socket());
  const std::string start =
      R"({"op":"jail_start","vm":"web","kernel":")" + scene.kernel +
      R"(","initrd":"","drives":[{"id":"rootfs","path":")" + scene.rootfs + R"("}]})";
  CHECK(Exchange(raw.get(), start) ==
        R"({"error":{"code":"invalid argument","message":"start the jail of vm 'web': the request carries no console descriptor"},"ok":false})");
  // Only jail_start takes a descriptor.
  Pipe stray;
  CHECK(Exchange(raw.get(), R"({"op":"ping"})", stray.write.get()) ==
        R"({"error":{"code":"invalid argument","message":"request 'ping' carries a descriptor it does not take"},"ok":false})");
  CHECK_FALSE(PathExists(JoinPath(scene.base, "firecracker/banger-4242-web")));
  raw.Reset();
  CHECK(fx.Teardown().empty());
}

}  // namespace
}  // namespace banger::testing
