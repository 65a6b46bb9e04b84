#include "tests/integration/image/exactness_fixture.h"

#include <archive.h>
#include <archive_entry.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "reconciler/disk/debugfs.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

namespace banger::testing {
namespace {

constexpr char kUser[] = "banger-test";

struct Node {
  std::string path;     // relative, no leading '/'
  uint32_t mode;        // full st_mode
  uint32_t uid, gid;
  std::string content;  // files: data; symlinks: target; hardlinks: the target path
  bool hardlink = false;
  uint64_t rdev = 0;
  bool cap = false;
};

const std::vector<Node>& Nodes() {
  static const std::vector<Node> nodes = {
      {"etc", S_IFDIR | 0755, 0, 0, ""},
      {"etc/passwd", S_IFREG | 0644, 0, 0, "root:x:0:0:root:/root:/bin/sh\n"},
      {"home", S_IFDIR | 0755, 0, 0, ""},
      {"home/user", S_IFDIR | 0755, 1000, 1000, ""},
      {"home/user/notes.txt", S_IFREG | 0644, 1000, 1000, "mine\n"},
      {"usr", S_IFDIR | 0755, 0, 0, ""},
      {"usr/bin", S_IFDIR | 0755, 0, 0, ""},
      {"usr/bin/su-like", S_IFREG | 04755, 0, 0, "#!/bin/sh\necho su\n"},
      {"usr/bin/sg-like", S_IFREG | 02755, 0, 42, "#!/bin/sh\necho sg\n"},
      {"usr/bin/tool", S_IFREG | 0755, 0, 0, "tool content\n"},
      {"usr/bin/tool-hard", S_IFREG | 0755, 0, 0, "usr/bin/tool", true},
      {"usr/bin/su-link", S_IFLNK | 0777, 0, 0, "su-like"},
      {"usr/bin/abs link", S_IFLNK | 0777, 1000, 1000, "/usr/bin/tool"},
      {"usr/bin/ping-like", S_IFREG | 0755, 0, 0, "ping\n", false, 0, true},
      {"var", S_IFDIR | 0755, 0, 0, ""},
      {"var/mail", S_IFDIR | 02775, 0, 8, ""},
      {"tmp", S_IFDIR | 01777, 0, 0, ""},
      {"dev", S_IFDIR | 0755, 0, 0, ""},
      {"dev/null", S_IFCHR | 0666, 0, 0, "", false, makedev(1, 3)},
  };
  return nodes;
}

void Check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what + ": " + strerror(errno));
}

}  // namespace

std::string NetRawCapability() {
  // magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE, then
  // permitted/inheritable for the low and high 32 capabilities.
  const unsigned char v[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0,
                               0,    0,    0,    0,    0,    0,    0,    0,    0, 0};
  return std::string(reinterpret_cast<const char*>(v), sizeof v);
}

void MakeExactnessDir(const std::string& dir) {
  Check(chmod(dir.c_str(), 0755) == 0, "chmod root");
  Check(chown(dir.c_str(), 0, 0) == 0, "chown root");
  for (const Node& n : Nodes()) {
    std::string p = JoinPath(dir, n.path);
    if (n.hardlink) {
      Check(link(JoinPath(dir, n.content).c_str(), p.c_str()) == 0, "link " + p);
      continue;
    }
    if (S_ISDIR(n.mode)) {
      Check(mkdir(p.c_str(), 0700) == 0, "mkdir " + p);
    } else if (S_ISREG(n.mode)) {
      WriteFile(dir, n.path, n.content);
    } else if (S_ISLNK(n.mode)) {
      Check(symlink(n.content.c_str(), p.c_str()) == 0, "symlink " + p);
    } else {
      Check(mknod(p.c_str(), n.mode, n.rdev) == 0, "mknod " + p);
    }
    Check(lchown(p.c_str(), n.uid, n.gid) == 0, "chown " + p);
    if (!S_ISLNK(n.mode)) Check(chmod(p.c_str(), n.mode & 07777) == 0, "chmod " + p);
    if (n.cap) {
      std::string cap = NetRawCapability();
      Check(setxattr(p.c_str(), "security.capability", cap.data(), cap.size(), 0) == 0, "setcap " + p);
    }
  }
}

void MakeExactnessTarball(const std::string& path) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  Check(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK, "open " + path);
  auto header = [&](const std::string& name, uint32_t mode, uint32_t uid, uint32_t gid) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_mode(e, mode);
    archive_entry_set_uid(e, uid);
    archive_entry_set_gid(e, gid);
    return e;
  };
  archive_entry* root = header("./", S_IFDIR | 0755, 0, 0);
  archive_write_header(a, root);
  archive_entry_free(root);
  for (const Node& n : Nodes()) {
    archive_entry* e = header("./" + n.path, n.mode, n.uid, n.gid);
    if (n.hardlink) {
      archive_entry_set_hardlink(e, ("./" + n.content).c_str());
      archive_entry_set_size(e, 0);
    } else if (S_ISREG(n.mode)) {
      archive_entry_set_size(e, static_cast<la_int64_t>(n.content.size()));
    } else if (S_ISLNK(n.mode)) {
      archive_entry_set_symlink(e, n.content.c_str());
    } else if (S_ISCHR(n.mode)) {
      archive_entry_set_rdev(e, n.rdev);
    }
    if (n.cap) {
      std::string cap = NetRawCapability();
      archive_entry_xattr_add_entry(e, "security.capability", cap.data(), cap.size());
    }
    Check(archive_write_header(a, e) == ARCHIVE_OK, "header " + n.path);
    if (S_ISREG(n.mode) && !n.hardlink) archive_write_data(a, n.content.data(), n.content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

void CheckExactnessImage(const std::string& image) {
  disk::Debugfs fs(image, SystemRunner());
  auto root = fs.Stat("/");
  REQUIRE(root.ok());
  REQUIRE(root->has_value());
  CHECK((*root)->mode == (S_IFDIR | 0755));
  CHECK((*root)->uid == 0);
  std::vector<std::string> paths;
  for (const Node& n : Nodes()) paths.push_back("/" + n.path);
  auto infos = fs.StatMany(paths);
  REQUIRE(infos.ok());
  uint64_t tool_inode = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    const Node& n = Nodes()[i];
    INFO(image << ": " << paths[i]);
    REQUIRE((*infos)[i].has_value());
    const disk::InodeInfo& info = *(*infos)[i];
    CHECK(info.uid == n.uid);
    CHECK(info.gid == n.gid);
    CHECK(info.mode == n.mode);
    if (n.path == "usr/bin/tool") tool_inode = info.inode;
    if (n.hardlink) {
      CHECK(info.inode == tool_inode);
      CHECK(info.links == 2);
    }
    if (S_ISREG(n.mode) && !n.hardlink) {
      auto content = fs.ReadFile(paths[i]);
      REQUIRE(content.ok());
      CHECK(*content == n.content);
    }
    if (S_ISCHR(n.mode)) CHECK(info.rdev == n.rdev);
  }
  auto cap = fs.GetXattr("/usr/bin/ping-like", "security.capability");
  REQUIRE(cap.ok());
  CHECK(*cap == NetRawCapability());
  auto link_out = fs.Stat("/usr/bin/su-link");
  REQUIRE(link_out.ok());
  CHECK((*link_out)->size == std::string("su-like").size());
}

TestUser UnprivilegedTestUser() {
  if (!getpwnam(kUser)) {
    auto r = RunChecked(ExecRequest{{"useradd", "--system", "--user-group", "--no-create-home",
                                     "--shell", "/usr/sbin/nologin", kUser}});
    if (!r.ok()) throw std::runtime_error(r.error().message());
  }
  passwd* pw = getpwnam(kUser);
  if (!pw) throw std::runtime_error("no user banger-test");
  return {pw->pw_uid, pw->pw_gid};
}

void GiveToTestUser(const std::string& path) {
  TestUser u = UnprivilegedTestUser();
  Check(chown(path.c_str(), u.uid, u.gid) == 0, "chown " + path);
}

int RunTestCaseUnprivileged(const std::string& test_name, const std::vector<std::string>& env) {
  TestUser u = UnprivilegedTestUser();
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  Check(n > 0, "readlink /proc/self/exe");
  exe[n] = '\0';
  ExecRequest req;
  req.argv = {"setpriv", "--reuid=" + std::to_string(u.uid), "--regid=" + std::to_string(u.gid),
              "--clear-groups", exe, test_name};
  std::vector<std::string> full = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                   "LANG=C", "HOME=/nonexistent"};
  full.insert(full.end(), env.begin(), env.end());
  req.env = full;
  req.timeout = std::chrono::minutes(20);
  auto r = SystemRunner().Run(req);
  REQUIRE(r.ok());
  UNSCOPED_INFO("child stdout: " << r->out << "\nchild stderr: " << r->err);
  return r->exit_code;
}

}  // namespace banger::testing
