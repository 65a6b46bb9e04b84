// Loop devices, device-mapper and socket ownership through the real helper.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>

#include "tests/integration/helper/helper_fixture.h"

namespace banger::testing {
namespace {

std::string MakeImage(const HelperFixture& fx, const std::string& name, uid_t owner) {
  std::string path = WriteFile(fx.dir(), name, std::string(1 << 20, '\0'));
  REQUIRE(chown(path.c_str(), owner, owner) == 0);
  return path;
}

std::string Sys(const std::string& device, const std::string& leaf) {
  auto text = ReadFile("/sys/block/" + Basename(device) + "/" + leaf);
  if (!text.ok()) return "";
  std::string s = *text;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

TEST_CASE("loop_attach and loop_detach of the owner's file") {
  HelperFixture fx;
  auto client = fx.Client();
  std::string image = MakeImage(fx, "disk.img", kTestOwner);

  auto rw = client.AttachLoop(image, false);
  REQUIRE(rw.ok());
  fx.TrackLoop(*rw);
  CHECK(Sys(*rw, "loop/backing_file") == image);
  CHECK(Sys(*rw, "ro") == "0");
  auto ro = client.AttachLoop(image, true);
  REQUIRE(ro.ok());
  fx.TrackLoop(*ro);
  CHECK(*ro != *rw);
  CHECK(Sys(*ro, "ro") == "1");

  REQUIRE(client.DetachLoop(*rw).ok());
  REQUIRE(client.DetachLoop(*ro).ok());
  CHECK(Sys(*rw, "loop/backing_file").empty());
  CHECK(Sys(*ro, "loop/backing_file").empty());

  auto twice = client.DetachLoop(*rw);  // no longer in the record
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().message() == "detach loop " + Quote(*rw) + ": the helper did not attach it");
  CHECK(fx.Teardown().empty());
}

TEST_CASE("loop_attach refuses files that are not the owner's, symlinks and strangers' loops") {
  HelperFixture fx;
  auto client = fx.Client();
  std::string roots = MakeImage(fx, "root.img", 0);
  auto r = client.AttachLoop(roots, true);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "attach loop for " + Quote(roots) +
                                   ": the file belongs to uid 0, not the owner 4242");

  std::string image = MakeImage(fx, "disk.img", kTestOwner);
  std::string link = JoinPath(fx.dir(), "link.img");
  REQUIRE(symlink(image.c_str(), link.c_str()) == 0);
  auto via_link = client.AttachLoop(link, true);
  REQUIRE_FALSE(via_link.ok());
  CHECK(via_link.error().message() ==
        "attach loop: open " + Quote(link) + ": the path contains a symlink");

  auto dir = client.AttachLoop(fx.sockets_dir(), true);
  REQUIRE_FALSE(dir.ok());

  auto stranger = client.DetachLoop("/dev/loop0");
  REQUIRE_FALSE(stranger.ok());
  CHECK(stranger.error().code() == Code::kPermissionDenied);
  CHECK(fx.Teardown().empty());
}

TEST_CASE("device-mapper snapshots report a host without device-mapper") {
  HelperFixture fx;
  auto client = fx.Client();
  helper::DmSnapshotCreateRequest request{"bg-web", "/dev/loop1", "/dev/loop2", true, 8};
  auto created = client.CreateDmSnapshot(request);
  auto removed = client.RemoveDmSnapshot("bg-web");
  if (!PathExists("/dev/mapper/control")) {
    REQUIRE_FALSE(created.ok());
    CHECK(created.error().code() == Code::kUnavailable);
    CHECK(created.error().message() ==
          "create snapshot 'bg-web': device-mapper is not available on this host (no "
          "'/dev/mapper/control')");
    REQUIRE_FALSE(removed.ok());
    CHECK(removed.error().code() == Code::kUnavailable);
  } else {
    // With device-mapper the origin must still be a loop the helper attached.
    REQUIRE_FALSE(created.ok());
    CHECK(created.error().message().find("was not attached by the helper") != std::string::npos);
    REQUIRE_FALSE(removed.ok());
    CHECK(removed.error().code() == Code::kPermissionDenied);
  }
  CHECK(fx.Teardown().empty());
}

// Binds a unix socket at `path` (owned by root, as a root-run VMM would).
void MakeSocket(const std::string& path) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
}

uid_t OwnerOf(const std::string& path) {
  struct stat st {};
  REQUIRE(lstat(path.c_str(), &st) == 0);
  return st.st_uid;
}

TEST_CASE("chown_socket gives a socket in an allowed directory to the owner") {
  HelperFixture fx;
  auto client = fx.Client();
  std::string sock = JoinPath(fx.sockets_dir(), "web.qmp");
  MakeSocket(sock);
  REQUIRE(OwnerOf(sock) == 0);
  REQUIRE(client.ChownSocket(sock).ok());
  CHECK(OwnerOf(sock) == kTestOwner);

  // A symlink to a socket, even inside the allowed directory.
  std::string other = JoinPath(fx.sockets_dir(), "other.qmp");
  MakeSocket(other);
  std::string link = JoinPath(fx.sockets_dir(), "link.qmp");
  REQUIRE(symlink(other.c_str(), link.c_str()) == 0);
  auto via_link = client.ChownSocket(link);
  REQUIRE_FALSE(via_link.ok());
  CHECK(via_link.error().message() ==
        "chown socket " + Quote(link) + ": it is a symlink");
  CHECK(OwnerOf(other) == 0);

  // Not a socket.
  std::string file = WriteFile(fx.sockets_dir(), "notes.txt", "x");
  auto regular = client.ChownSocket(file);
  REQUIRE_FALSE(regular.ok());
  CHECK(regular.error().message() == "chown socket " + Quote(file) + ": not a unix socket");
  CHECK(OwnerOf(file) == 0);

  // Outside the allowed directories.
  std::string outside = JoinPath(fx.dir(), "outside.qmp");
  MakeSocket(outside);
  auto refused = client.ChownSocket(outside);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code() == Code::kPermissionDenied);
  CHECK(OwnerOf(outside) == 0);

  // Inside an allowed directory, but in a subdirectory someone else owns.
  std::string root_dir = JoinPath(fx.sockets_dir(), "rootdir");
  REQUIRE(MakeDirs(root_dir, 0755).ok());
  std::string deep = JoinPath(root_dir, "x.qmp");
  MakeSocket(deep);
  auto foreign_dir = client.ChownSocket(deep);
  REQUIRE_FALSE(foreign_dir.ok());
  CHECK(foreign_dir.error().message() ==
        "chown socket " + Quote(deep) + ": its directory belongs to uid 0, not the owner 4242");
  CHECK(OwnerOf(deep) == 0);
  CHECK(fx.Teardown().empty());
}

}  // namespace
}  // namespace banger::testing
