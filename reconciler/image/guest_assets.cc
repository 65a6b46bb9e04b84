#include "reconciler/image/guest_assets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "reconciler/os/fs.h"

// The assembler's .incbin copies each file into .rodata at build time; the
// repository root is on the include path, which GCC hands to the assembler.
// Build systems do not track .incbin inputs: the unit test "embedded guest
// files match guest/rootfs" fails when the binary holds a stale copy.
#define BANGER_EMBED(sym, file)                                          \
  asm(".pushsection .rodata.banger_guest_" #sym ", \"a\", @progbits\n"   \
      ".balign 16\n"                                                     \
      ".global banger_guest_" #sym "_begin\n"                            \
      ".hidden banger_guest_" #sym "_begin\n"                            \
      "banger_guest_" #sym "_begin:\n"                                   \
      ".incbin \"" file "\"\n"                                           \
      ".global banger_guest_" #sym "_end\n"                              \
      ".hidden banger_guest_" #sym "_end\n"                              \
      "banger_guest_" #sym "_end:\n"                                     \
      ".byte 0\n"                                                        \
      ".popsection\n");                                                  \
  extern "C" const char banger_guest_##sym##_begin[];                    \
  extern "C" const char banger_guest_##sym##_end[];

BANGER_EMBED(net_sh, "guest/rootfs/usr/lib/banger/net-bootstrap.sh")
BANGER_EMBED(ready_sh, "guest/rootfs/usr/lib/banger/ready.sh")
BANGER_EMBED(net_unit, "guest/rootfs/etc/systemd/system/banger-net.service")
BANGER_EMBED(hostkeys_unit, "guest/rootfs/etc/systemd/system/banger-hostkeys.service")
BANGER_EMBED(ready_unit, "guest/rootfs/etc/systemd/system/banger-ready.service")
BANGER_EMBED(ldconfig_unit, "guest/rootfs/etc/systemd/system/banger-ldconfig.service")
BANGER_EMBED(sshd_conf, "guest/rootfs/etc/ssh/sshd_config.d/banger.conf")
BANGER_EMBED(first_boot_sh, "guest/rootfs/usr/lib/banger/first-boot.sh")
BANGER_EMBED(first_boot_unit, "guest/rootfs/etc/systemd/system/banger-firstboot.service")
BANGER_EMBED(poweroff_sh, "guest/rootfs/usr/lib/banger/poweroff.sh")
BANGER_EMBED(init, "guest/rootfs/usr/lib/banger/init")
BANGER_EMBED(inittab, "guest/rootfs/usr/lib/banger/inittab")
BANGER_EMBED(boot_sh, "guest/rootfs/usr/lib/banger/boot.sh")
BANGER_EMBED(shutdown_sh, "guest/rootfs/usr/lib/banger/shutdown.sh")
BANGER_EMBED(agent_unit, "guest/rootfs/etc/systemd/system/banger-agent.service")
// The static agent binary from this build (guest/agent); its build
// directory is on this file's include path (reconciler/CMakeLists.txt).
BANGER_EMBED(agent, "banger-agent")

namespace banger::image {
namespace {

#define BANGER_CONTENT(sym) \
  std::string_view(banger_guest_##sym##_begin, banger_guest_##sym##_end - banger_guest_##sym##_begin)

constexpr char kUnitDir[] = "etc/systemd/system";

const EntryMeta kRootDir{0, 0, S_IFDIR | 0755, 0, {}};

// Creates missing parents of `rel` as root-owned 0755 directories.
Status EnsureParents(RootfsTree& tree, const std::string& rel) {
  std::string parent;
  size_t at = 0;
  while ((at = rel.find('/', at)) != std::string::npos) {
    parent = rel.substr(0, at++);
    std::string path = JoinPath(tree.root(), parent);
    struct stat st;
    if (lstat(path.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return FailedPrecondition("install " + Quote("/" + rel) + ": " + Quote("/" + parent) +
                                  " is not a directory in the image");
      }
      continue;
    }
    if (mkdir(path.c_str(), 0755) != 0) return Error::FromErrno("create " + Quote(path));
    tree.Set(parent, kRootDir);
  }
  return OkStatus();
}

// Replaces whatever is at `rel` (file or link) with `content`.
Status InstallFile(RootfsTree& tree, const std::string& rel, std::string_view content,
                   uint32_t mode) {
  BANGER_RETURN_IF_ERROR(EnsureParents(tree, rel));
  std::string path = JoinPath(tree.root(), rel);
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return FailedPrecondition("install " + Quote("/" + rel) + ": a directory is in the way");
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return Error::FromErrno("replace " + Quote(path));
  BANGER_RETURN_IF_ERROR(AtomicWriteFile(path, content, (mode & 0777) | 0600));
  tree.Erase(rel);
  tree.Set(rel, EntryMeta{0, 0, S_IFREG | mode, 0, {}});
  return OkStatus();
}

Status InstallLink(RootfsTree& tree, const GuestLink& link) {
  BANGER_RETURN_IF_ERROR(EnsureParents(tree, link.image_path));
  std::string path = JoinPath(tree.root(), link.image_path);
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return FailedPrecondition("link " + Quote("/" + link.image_path) + ": a directory is in the way");
    }
    if (unlink(path.c_str()) != 0) return Error::FromErrno("replace " + Quote(path));
  }
  if (symlink(link.target.c_str(), path.c_str()) != 0) return Error::FromErrno("link " + Quote(path));
  tree.Set(link.image_path, EntryMeta{0, 0, S_IFLNK | 0777, 0, {}});
  return OkStatus();
}

// Whether the image has lib/REL in either half of a merged or split /usr.
// Only real directories are looked into: an image's absolute symlink would
// lead into the host.
bool HasEither(const RootfsTree& tree, const std::string& rel) {
  struct stat st;
  for (const char* dir : {"usr/lib", "lib"}) {
    std::string base = JoinPath(tree.root(), dir);
    if (lstat(base.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (lstat(JoinPath(base, rel).c_str(), &st) == 0) return true;
  }
  return false;
}

// The target of the symlink at `rel`, when every parent of it is a real
// directory (an image's own symlinked parent could lead into the host).
bool ReadLinkInTree(const RootfsTree& tree, const std::string& rel, std::string& target) {
  struct stat st;
  for (size_t at = rel.find('/'); at != std::string::npos; at = rel.find('/', at + 1)) {
    std::string parent = JoinPath(tree.root(), rel.substr(0, at));
    if (lstat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  }
  char buf[4096];
  ssize_t n = readlink(JoinPath(tree.root(), rel).c_str(), buf, sizeof buf);
  if (n <= 0) return false;
  target.assign(buf, static_cast<size_t>(n));
  return true;
}

}  // namespace

const std::vector<GuestFile>& GuestFiles() {
  constexpr bool kInitKit = true;
  static const std::vector<GuestFile> files = {
      {"usr/lib/banger/net-bootstrap.sh", "guest/rootfs/usr/lib/banger/net-bootstrap.sh", 0755,
       BANGER_CONTENT(net_sh)},
      {"usr/lib/banger/ready.sh", "guest/rootfs/usr/lib/banger/ready.sh", 0755,
       BANGER_CONTENT(ready_sh)},
      {"usr/lib/banger/first-boot.sh", "guest/rootfs/usr/lib/banger/first-boot.sh", 0755,
       BANGER_CONTENT(first_boot_sh)},
      {"usr/lib/banger/poweroff.sh", "guest/rootfs/usr/lib/banger/poweroff.sh", 0755,
       BANGER_CONTENT(poweroff_sh)},
      {"etc/systemd/system/banger-net.service",
       "guest/rootfs/etc/systemd/system/banger-net.service", 0644, BANGER_CONTENT(net_unit)},
      {"etc/systemd/system/banger-hostkeys.service",
       "guest/rootfs/etc/systemd/system/banger-hostkeys.service", 0644,
       BANGER_CONTENT(hostkeys_unit)},
      {"etc/systemd/system/banger-ready.service",
       "guest/rootfs/etc/systemd/system/banger-ready.service", 0644, BANGER_CONTENT(ready_unit)},
      {"etc/systemd/system/banger-ldconfig.service",
       "guest/rootfs/etc/systemd/system/banger-ldconfig.service", 0644,
       BANGER_CONTENT(ldconfig_unit)},
      {"etc/systemd/system/banger-agent.service",
       "guest/rootfs/etc/systemd/system/banger-agent.service", 0644, BANGER_CONTENT(agent_unit)},
      {"etc/systemd/system/banger-firstboot.service",
       "guest/rootfs/etc/systemd/system/banger-firstboot.service", 0644,
       BANGER_CONTENT(first_boot_unit)},
      {"etc/ssh/sshd_config.d/banger.conf", "guest/rootfs/etc/ssh/sshd_config.d/banger.conf",
       0644, BANGER_CONTENT(sshd_conf)},
      {"usr/lib/banger/init", "guest/rootfs/usr/lib/banger/init", 0755, BANGER_CONTENT(init),
       kInitKit},
      {"usr/lib/banger/inittab", "guest/rootfs/usr/lib/banger/inittab", 0644,
       BANGER_CONTENT(inittab), kInitKit},
      {"usr/lib/banger/boot.sh", "guest/rootfs/usr/lib/banger/boot.sh", 0755,
       BANGER_CONTENT(boot_sh), kInitKit},
      {"usr/lib/banger/shutdown.sh", "guest/rootfs/usr/lib/banger/shutdown.sh", 0755,
       BANGER_CONTENT(shutdown_sh), kInitKit},
  };
  return files;
}

std::string_view GuestAgentBinary() {
  // .incbin appends nothing; the trailing ".byte 0" is outside the range.
  return BANGER_CONTENT(agent);
}

const std::vector<std::string>& InitKitApplets() {
  static const std::vector<std::string> applets = {
      "sh",    "ip",   "hostname", "mount", "umount", "mkdir", "chmod", "cat",  "sed",
      "grep",  "tr",   "mv",       "rm",    "sync",   "sleep", "ps",    "kill", "ls",
      "head",  "tail", "touch",    "cut",   "id",     "poweroff", "reboot", "vi",
      "timeout",
  };
  return applets;
}

GuestInit DetectInit(const RootfsTree& tree) {
  for (const char* rel : {"sbin/init", "usr/sbin/init"}) {
    std::string target;
    if (!ReadLinkInTree(tree, rel, target)) continue;
    // A symlink into systemd (/lib/systemd/systemd, ../lib/systemd/systemd).
    if (target.size() >= 15 && target.compare(target.size() - 15, 15, "systemd/systemd") == 0)
      return GuestInit::kSystemd;
  }
  return GuestInit::kBanger;
}

std::vector<GuestLink> GuestLinks(const RootfsTree& tree) {
  const std::string units = kUnitDir;
  std::vector<GuestLink> links;
  for (const char* unit : {"banger-net.service", "banger-hostkeys.service", "banger-ready.service",
                           "banger-agent.service"}) {
    links.push_back({units + "/multi-user.target.wants/" + unit, "/" + units + "/" + unit});
  }
  links.push_back({units + "/multi-user.target.wants/banger-firstboot.service",
                   "/" + units + "/banger-firstboot.service"});
  links.push_back({units + "/sysinit.target.wants/banger-ldconfig.service",
                   "/" + units + "/banger-ldconfig.service"});
  if (HasEither(tree, "systemd/system/ssh.service")) {
    links.push_back({units + "/multi-user.target.wants/ssh.service", "/lib/systemd/system/ssh.service"});
    links.push_back({units + "/sshd.service", "/lib/systemd/system/ssh.service"});
  }
  // Without udev, device units never appear and serial gettys wait for
  // them until they time out; no password login is possible anyway.
  if (!HasEither(tree, "systemd/systemd-udevd")) {
    for (const char* unit : {"serial-getty@ttyS0.service", "serial-getty@hvc0.service"}) {
      links.push_back({units + "/" + unit, "/dev/null"});
    }
  }
  return links;
}

Result<GuestInit> InjectGuestAssets(RootfsTree& tree) {
  const GuestInit init = DetectInit(tree);
  for (const GuestFile& f : GuestFiles()) {
    if (f.init_kit && init != GuestInit::kBanger) continue;
    BANGER_RETURN_IF_ERROR(InstallFile(tree, std::string(f.image_path), f.content, f.mode));
  }
  BANGER_RETURN_IF_ERROR(InstallFile(tree, kGuestAgentPath, GuestAgentBinary(), 0755));
  for (const GuestLink& link : GuestLinks(tree)) BANGER_RETURN_IF_ERROR(InstallLink(tree, link));
  if (init == GuestInit::kBanger) {
    // The busybox itself is copied in by the initramfs at boot.
    for (const std::string& applet : InitKitApplets())
      BANGER_RETURN_IF_ERROR(InstallLink(tree, {"usr/lib/banger/bin/" + applet, "../busybox"}));
  }

  // Host keys made during the image build would be shared by every VM.
  std::string ssh_dir = JoinPath(tree.root(), "etc/ssh");
  if (IsDirectory(ssh_dir)) {
    BANGER_ASSIGN_OR_RETURN(auto names, ListDir(ssh_dir));
    for (const auto& n : names) {
      if (n.rfind("ssh_host_", 0) != 0) continue;
      BANGER_RETURN_IF_ERROR(RemoveTree(JoinPath(ssh_dir, n)));
      tree.Erase("etc/ssh/" + n);
    }
  }
  // An empty machine-id gives every VM its own, generated at boot.
  if (IsDirectory(JoinPath(tree.root(), "etc"))) {
    BANGER_RETURN_IF_ERROR(InstallFile(tree, "etc/machine-id", "", 0444));
  }
  std::string dbus_id = "var/lib/dbus/machine-id";
  struct stat st;
  if (lstat(JoinPath(tree.root(), dbus_id).c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    BANGER_RETURN_IF_ERROR(RemoveTree(JoinPath(tree.root(), dbus_id)));
    tree.Erase(dbus_id);
  }
  return init;
}

namespace {

constexpr char kHome[] = "root";
const EntryMeta kPrivateDir{0, 0, S_IFDIR | 0700, 0, {}};

Status CopySkel(const RootfsTree& rootfs, RootfsTree& seed) {
  for (const char* name : {".bashrc", ".profile"}) {
    std::string rel = std::string("etc/skel/") + name;
    std::string from = JoinPath(rootfs.root(), rel);
    struct stat st;
    // lstat: a symlinked skel file could point into the host.
    if (lstat(from.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    BANGER_ASSIGN_OR_RETURN(std::string content, ReadFile(from));
    BANGER_RETURN_IF_ERROR(AtomicWriteFile(JoinPath(seed.root(), name), content, 0644));
    seed.Set(name, EntryMeta{0, 0, S_IFREG | 0644, 0, {}});
  }
  return OkStatus();
}

}  // namespace

Status SplitWorkSeed(RootfsTree& rootfs, RootfsTree& seed) {
  const std::string home = JoinPath(rootfs.root(), kHome);
  struct stat st;
  bool moved_any = false;
  if (lstat(home.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    BANGER_ASSIGN_OR_RETURN(auto names, ListDir(home));
    for (const auto& n : names) {
      std::string from = JoinPath(home, n);
      std::string to = JoinPath(seed.root(), n);
      if (rename(from.c_str(), to.c_str()) != 0) {
        return Error::FromErrno("move " + Quote(from) + " to the work seed");
      }
      moved_any = true;
    }
    // Re-key the metadata of everything that moved: "root/x" -> "x".
    const std::string prefix = std::string(kHome) + "/";
    std::vector<std::pair<std::string, EntryMeta>> moved;
    for (const auto& [rel, meta] : rootfs.entries()) {
      if (rel.compare(0, prefix.size(), prefix) == 0) moved.emplace_back(rel.substr(prefix.size()), meta);
    }
    for (auto& [rel, meta] : moved) seed.Set(rel, std::move(meta));
  } else if (lstat(home.c_str(), &st) == 0) {
    if (unlink(home.c_str()) != 0) return Error::FromErrno("replace " + Quote(home));
  }
  rootfs.Erase(kHome);
  if (!IsDirectory(home) && mkdir(home.c_str(), 0700) != 0) {
    return Error::FromErrno("create " + Quote(home));
  }
  rootfs.Set(kHome, kPrivateDir);
  seed.Set("", kPrivateDir);
  if (!moved_any) BANGER_RETURN_IF_ERROR(CopySkel(rootfs, seed));
  return OkStatus();
}

}  // namespace banger::image
