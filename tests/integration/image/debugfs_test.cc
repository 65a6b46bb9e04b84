// disk::Debugfs against real images made with mkfs.ext4.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "reconciler/disk/debugfs.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::disk;

namespace {

std::string EmptyImage(const std::string& dir) {
  std::string src = JoinPath(dir, "src");
  testing::WriteFile(src, "etc/hostname", "vm\n");
  std::string img = JoinPath(dir, "disk.ext4");
  auto r = RunChecked(ExecRequest{{"mkfs.ext4", "-q", "-F", "-d", src, img, "32M"}});
  REQUIRE(r.ok());
  return img;
}

}  // namespace

TEST_CASE("write a file with owner and mode, creating parents, then read it back") {
  TempDir dir = testing::ScratchDir("banger-debugfs-");
  Debugfs fs(EmptyImage(dir.path()), SystemRunner());
  Status st = fs.WriteFile("/root/.ssh/authorized_keys", "ssh-ed25519 AAAA key\n",
                           FileOwnership{0, 0, 0600}, FileOwnership{0, 0, 0700});
  INFO((st.ok() ? "" : st.error().message()));
  REQUIRE(st.ok());
  auto info = fs.Stat("/root/.ssh/authorized_keys");
  REQUIRE(info.ok());
  REQUIRE(info->has_value());
  CHECK((*info)->mode == (S_IFREG | 0600));
  CHECK((*info)->size == 21);
  auto ssh = fs.Stat("/root/.ssh");
  REQUIRE(ssh.ok());
  CHECK((*ssh)->mode == (S_IFDIR | 0700));
  CHECK(*fs.ReadFile("/root/.ssh/authorized_keys") == "ssh-ed25519 AAAA key\n");

  // Replacing keeps one file with the new content and owner.
  REQUIRE(fs.WriteFile("/root/.ssh/authorized_keys", "second\n", FileOwnership{1000, 1000, 0640},
                       FileOwnership{0, 0, 0700})
              .ok());
  auto again = fs.Stat("/root/.ssh/authorized_keys");
  CHECK((*again)->uid == 1000);
  CHECK((*again)->mode == (S_IFREG | 0640));
  CHECK((*again)->links == 1);
  CHECK(*fs.ReadFile("/root/.ssh/authorized_keys") == "second\n");
}

TEST_CASE("paths with spaces and quotes work") {
  TempDir dir = testing::ScratchDir("banger-debugfs-");
  Debugfs fs(EmptyImage(dir.path()), SystemRunner());
  const std::string path = "/root/my \"project\"/notes; todo.txt";
  REQUIRE(fs.WriteFile(path, "x", FileOwnership{0, 0, 0644}, FileOwnership{0, 0, 0755}).ok());
  CHECK(*fs.ReadFile(path) == "x");
  REQUIRE(fs.MakeDirs("/srv/a b/c", FileOwnership{5, 6, 0750}).ok());
  auto c = fs.Stat("/srv/a b/c");
  REQUIRE((*c).has_value());
  CHECK((*c)->uid == 5);
  CHECK((*c)->gid == 6);
  CHECK((*c)->mode == (S_IFDIR | 0750));
  // Existing directories are left alone.
  REQUIRE(fs.MakeDirs("/srv/a b", FileOwnership{7, 7, 0700}).ok());
  CHECK((*fs.Stat("/srv/a b"))->uid == 5);
}

TEST_CASE("missing paths, directories in the way and failing commands are errors") {
  TempDir dir = testing::ScratchDir("banger-debugfs-");
  std::string img = EmptyImage(dir.path());
  Debugfs fs(img, SystemRunner());
  auto missing = fs.Stat("/nope");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
  auto many = fs.StatMany({"/etc", "/nope", "/etc/hostname"});
  REQUIRE(many.ok());
  CHECK((*many)[0].has_value());
  CHECK_FALSE((*many)[1].has_value());
  CHECK((*many)[2]->size == 3);

  auto read = fs.ReadFile("/nope");
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().code() == Code::kNotFound);
  CHECK_FALSE(fs.WriteFile("/etc", "x", {}, {}).ok());
  CHECK_FALSE(fs.WriteFile("/etc/hostname/x", "x", {}, {}).ok());

  // debugfs exits 0 after a failed command; the error still surfaces.
  DebugfsScript s;
  s.SetInodeField("/does/not/exist", "uid", "5");
  auto r = fs.Run(s, true);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("'" + img + "'") != std::string::npos);
  CHECK(r.error().message().find("File not found") != std::string::npos);
}

TEST_CASE("dump copies a file out and xattrs read back") {
  TempDir dir = testing::ScratchDir("banger-debugfs-");
  Debugfs fs(EmptyImage(dir.path()), SystemRunner());
  std::string out = JoinPath(dir.path(), "hostname.out");
  REQUIRE(fs.DumpFile("/etc/hostname", out).ok());
  CHECK(*ReadFile(out) == "vm\n");
  std::string value_file = testing::WriteFile(dir.path(), "v", std::string("a\0b", 3));
  DebugfsScript s;
  s.SetXattrFromFile("/etc/hostname", "user.test", value_file);
  REQUIRE(fs.Run(s, true).ok());
  auto names = fs.ListXattrNames("/etc/hostname");
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"user.test"});
  CHECK(*fs.GetXattr("/etc/hostname", "user.test") == std::string("a\0b", 3));
}
