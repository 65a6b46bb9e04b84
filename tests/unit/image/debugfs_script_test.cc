#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <catch2/catch.hpp>

#include "reconciler/disk/debugfs.h"

using namespace banger;
using namespace banger::disk;

TEST_CASE("debugfs arguments are always double-quoted with quotes doubled") {
  CHECK(*DebugfsQuote("/etc/passwd") == "\"/etc/passwd\"");
  CHECK(*DebugfsQuote("/a b/c\td") == "\"/a b/c\td\"");
  CHECK(*DebugfsQuote("/q\"uote") == "\"/q\"\"uote\"");
  CHECK(*DebugfsQuote("/semi;colon 'single' back\\slash") ==
        "\"/semi;colon 'single' back\\slash\"");
  auto bad = DebugfsQuote("/new\nline");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == Code::kInvalidArgument);
  CHECK(bad.error().message().find("'/new\nline'") != std::string::npos);
  CHECK_FALSE(DebugfsQuote(std::string("/nul\0x", 6)).ok());
}

TEST_CASE("owner and mode become three set_inode_field lines, mode in octal") {
  DebugfsScript s;
  s.SetOwnerAndMode("/usr/bin/su", 0, 0, S_IFREG | 04755);
  s.SetOwnerAndMode("/home/a b", 1000, 1000, S_IFDIR | 02775);
  CHECK(*s.Render() ==
        "set_inode_field \"/usr/bin/su\" uid 0\n"
        "set_inode_field \"/usr/bin/su\" gid 0\n"
        "set_inode_field \"/usr/bin/su\" mode 0104755\n"
        "set_inode_field \"/home/a b\" uid 1000\n"
        "set_inode_field \"/home/a b\" gid 1000\n"
        "set_inode_field \"/home/a b\" mode 042775\n");
}

TEST_CASE("nodes and files are created from inside their parent directory") {
  // debugfs links a new inode under the current directory using the whole
  // argument as one name, so a path argument would create "/dev/null" as a
  // single strange name in "/".
  DebugfsScript s;
  s.MakeNode("/dev/null", S_IFCHR | 0666, makedev(1, 3), 0, 0);
  s.MakeNode("/run/my fifo", S_IFIFO | 0600, 0, 5, 6);
  s.WriteFile("/tmp/host file", "/root/.ssh/authorized_keys");
  CHECK(*s.Render() ==
        "cd \"/dev\"\n"
        "mknod \"null\" c 1 3\n"
        "cd \"/\"\n"
        "set_inode_field \"/dev/null\" uid 0\n"
        "set_inode_field \"/dev/null\" gid 0\n"
        "set_inode_field \"/dev/null\" mode 020666\n"
        "cd \"/run\"\n"
        "mknod \"my fifo\" p\n"
        "cd \"/\"\n"
        "set_inode_field \"/run/my fifo\" uid 5\n"
        "set_inode_field \"/run/my fifo\" gid 6\n"
        "set_inode_field \"/run/my fifo\" mode 010600\n"
        "cd \"/root/.ssh\"\n"
        "write \"/tmp/host file\" \"authorized_keys\"\n"
        "cd \"/\"\n");
}

TEST_CASE("xattrs are set from value files") {
  DebugfsScript s;
  s.SetXattrFromFile("/bin/ping", "security.capability", "/tmp/v/0");
  CHECK(*s.Render() == "ea_set -f \"/tmp/v/0\" \"/bin/ping\" \"security.capability\"\n");
}

TEST_CASE("the first bad path fails the whole script") {
  DebugfsScript s;
  s.SetOwnerAndMode("/fine", 0, 0, S_IFREG | 0644);
  s.SetOwnerAndMode("/bad\nname", 0, 0, S_IFREG | 0644);
  s.MakeNode("/dev/x", S_IFREG | 0644, 0, 0, 0);
  auto r = s.Render();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("line break") != std::string::npos);
}

TEST_CASE("a regular file mode is not a node") {
  DebugfsScript s;
  s.MakeNode("/dev/x", S_IFREG | 0644, 0, 0, 0);
  auto r = s.Render();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "mknod '/dev/x': not a device or FIFO mode");
}

TEST_CASE("stat output is parsed into full mode, owner and device numbers") {
  const char* text =
      "debugfs: stat \"/dev/console\"\n"
      "Inode: 16   Type: character special    Mode:  0600   Flags: 0x0\n"
      "Generation: 0    Version: 0x00000000:00000000\n"
      "User:     0   Group:     5   Project:     0   Size: 0\n"
      "File ACL: 0\n"
      "Links: 1   Blockcount: 0\n"
      "Device major/minor number: 05:01 (hex 05:01)\n";
  auto info = ParseDebugfsStat(text);
  REQUIRE(info.ok());
  CHECK(info->inode == 16);
  CHECK(info->mode == (S_IFCHR | 0600));
  CHECK(info->gid == 5);
  CHECK(info->links == 1);
  CHECK(info->rdev == makedev(5, 1));

  auto su = ParseDebugfsStat(
      "Inode: 14   Type: regular    Mode:  04755   Flags: 0x80000\n"
      "User:  1000   Group:  1001   Project:     0   Size: 68248\n"
      "Links: 2   Blockcount: 136\n");
  REQUIRE(su.ok());
  CHECK(su->mode == (S_IFREG | 04755));
  CHECK(su->uid == 1000);
  CHECK(su->gid == 1001);
  CHECK(su->size == 68248);
  CHECK(su->links == 2);

  CHECK_FALSE(ParseDebugfsStat("/x: File not found by ext2_lookup\n").ok());
}
