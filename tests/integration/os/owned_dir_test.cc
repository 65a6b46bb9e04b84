// Per-process owned directories and the sweep of dead owners' leftovers,
// against real processes, PIDs and flock(2).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"
#include "tests/support/test_env.h"

using namespace banger;

namespace {

// A PID that belonged to a process which has exited and been reaped.
pid_t DeadPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status;
  waitpid(pid, &status, 0);
  return pid;
}

// A child that creates an owned dir in `parent`, reports its path, and
// then either exits at once without cleaning up (as after SIGKILL) or
// lives until `release` is closed.
struct Child {
  pid_t pid = -1;
  std::string path;
  int release = -1;

  Child(const std::string& parent, bool stay_alive) {
    int report[2], hold[2];
    REQUIRE(pipe(report) == 0);
    REQUIRE(pipe(hold) == 0);
    pid = fork();
    if (pid == 0) {
      close(report[0]);
      close(hold[1]);
      auto dir = OwnedDir::Create(parent, "stage-");
      std::string p = dir.ok() ? dir->path() : "";
      (void)!write(report[1], p.data(), p.size());
      close(report[1]);
      if (stay_alive) {
        char c;
        (void)!read(hold[0], &c, 1);
      }
      _exit(0);  // no destructors: the directory stays behind
    }
    close(report[1]);
    close(hold[0]);
    release = hold[1];
    char buf[4096];
    ssize_t n = read(report[0], buf, sizeof buf);
    close(report[0]);
    if (n > 0) path.assign(buf, static_cast<size_t>(n));
    if (!stay_alive) Reap();
  }
  void Reap() {
    if (release >= 0) close(release);
    release = -1;
    if (pid > 0) {
      int status;
      waitpid(pid, &status, 0);
      pid = -1;
    }
  }
  ~Child() { Reap(); }
};

bool Has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

TEST_CASE("an owned dir is named by its PID, locked, and removed by its owner", "[owned]") {
  auto scratch = testing::ScratchDir();
  std::string path;
  {
    auto dir = OwnedDir::Create(scratch.path() + "/staging", "image-");
    REQUIRE(dir.ok());
    path = dir->path();
    const std::string name = Basename(path);
    CHECK(OwnerPid(name, "image-") == getpid());
    CHECK(dir->Suffix().size() == 6);
    // Someone else cannot take the lock while we hold it.
    int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    CHECK(flock(fd, LOCK_EX | LOCK_NB) != 0);
    close(fd);
    testing::WriteFile(path, "a/b", "x");
  }
  CHECK_FALSE(PathExists(path));
}

TEST_CASE("owner PIDs are read only from names of the exact shape", "[owned]") {
  CHECK(OwnerPid("image-123.abcdef", "image-") == 123);
  CHECK(OwnerPid("image-123", "image-") == 0);
  CHECK(OwnerPid("image-123.", "image-") == 0);
  CHECK(OwnerPid("image-.abcdef", "image-") == 0);
  CHECK(OwnerPid("image-12x.abcdef", "image-") == 0);
  CHECK(OwnerPid("kernel-123.abcdef", "image-") == 0);
  CHECK(OwnerPid("banger-test-abc", "banger-") == 0);
  CHECK(OwnerPid("image-0.abcdef", "image-") == 0);
  CHECK(OwnerPid("image-99999999999.abcdef", "image-") == 0);
}

TEST_CASE("the sweep removes dead owners' dirs and keeps live ones", "[owned]") {
  auto scratch = testing::ScratchDir();
  const std::string parent = scratch.path() + "/staging";
  Child dead(parent, /*stay_alive=*/false);
  Child alive(parent, /*stay_alive=*/true);
  REQUIRE_FALSE(dead.path.empty());
  REQUIRE_FALSE(alive.path.empty());
  testing::WriteFile(dead.path, "rootfs/etc/hostname", "x");
  auto mine = OwnedDir::Create(parent, "stage-");
  REQUIRE(mine.ok());

  // Planted by hand with a dead PID, unlocked: a leftover.
  const std::string planted = parent + "/stage-" + std::to_string(DeadPid()) + ".zzzzzz";
  testing::WriteFile(planted, "file", "x");
  // A dead PID's name but locked by a live process (PID reuse, or another
  // PID namespace): kept.
  const std::string locked = parent + "/stage-" + std::to_string(DeadPid()) + ".yyyyyy";
  REQUIRE(MakeDirs(locked).ok());
  int lock_fd = open(locked.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(lock_fd >= 0);
  REQUIRE(flock(lock_fd, LOCK_EX) == 0);
  // A live PID's name, unlocked: kept (the PID says alive).
  const std::string live_pid = parent + "/stage-" + std::to_string(getppid()) + ".xxxxxx";
  REQUIRE(MakeDirs(live_pid).ok());
  // Not ours at all.
  const std::string foreign = parent + "/stage-notapid";
  REQUIRE(MakeDirs(foreign).ok());
  const std::string other_prefix = parent + "/other-" + std::to_string(DeadPid()) + ".wwwwww";
  REQUIRE(MakeDirs(other_prefix).ok());

  auto swept = SweepDeadOwners(parent, {"stage-"});
  REQUIRE(swept.ok());
  CHECK_FALSE(PathExists(dead.path));
  CHECK_FALSE(PathExists(planted));
  CHECK(Has(swept->removed, dead.path));
  CHECK(Has(swept->removed, planted));
  CHECK(swept->removed.size() == 2);
  for (const auto& kept : {alive.path, mine->path(), locked, live_pid, foreign, other_prefix}) {
    INFO(kept);
    CHECK(PathExists(kept));
  }
  CHECK(Has(swept->kept, alive.path));
  CHECK(Has(swept->kept, locked));
  close(lock_fd);

  // Once the live child exits without cleaning up, its dir goes too.
  alive.Reap();
  auto again = SweepDeadOwners(parent, {"stage-"});
  REQUIRE(again.ok());
  CHECK_FALSE(PathExists(alive.path));
  CHECK_FALSE(PathExists(locked));  // its lock was released above
  CHECK(PathExists(mine->path()));
  CHECK(SweepDeadOwners(scratch.path() + "/missing", {"stage-"}).ok());
}

TEST_CASE("host temp files live in this process's owned dir", "[owned]") {
  const std::string parent = HostTempParent();
  CHECK(HostTempParent() == parent);  // created once
  CHECK(OwnerPid(Basename(parent), kHostTempPrefix) == getpid());
  CHECK(IsDirectory(parent));
}
