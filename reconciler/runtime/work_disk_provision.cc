#include "reconciler/runtime/work_disk_provision.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>

#include "reconciler/disk/debugfs.h"
#include "reconciler/observe/observer.h"
#include "reconciler/os/fs.h"

namespace banger::runtime {
namespace {

constexpr disk::FileOwnership kRootDirs{0, 0, 0755};

// Copies a host file or tree into the image at `dest`.
Status CopyIntoImage(disk::Debugfs& fs, const std::string& host, const std::string& dest,
                     std::optional<uint32_t> mode) {
  struct stat st;
  if (lstat(host.c_str(), &st) != 0) return Error::FromErrno("stat " + Quote(host));
  if (S_ISDIR(st.st_mode)) {
    BANGER_RETURN_IF_ERROR(fs.MakeDirs(dest, {0, 0, st.st_mode & 07777}));
    BANGER_ASSIGN_OR_RETURN(auto names, ListDir(host));
    for (const auto& n : names) {
      // Files inside a directory keep their own modes.
      BANGER_RETURN_IF_ERROR(CopyIntoImage(fs, JoinPath(host, n), JoinPath(dest, n), std::nullopt));
    }
    return OkStatus();
  }
  if (!S_ISREG(st.st_mode)) return OkStatus();  // sockets, links: not synced
  BANGER_ASSIGN_OR_RETURN(std::string data, ReadFile(host));
  const uint32_t m = mode ? *mode : (st.st_mode & 07777);
  return fs.WriteFile(dest, data, {0, 0, m}, kRootDirs);
}

}  // namespace

Result<std::string> WorkDiskPath(const std::string& guest_path) {
  std::string rel;
  if (guest_path.rfind("~/", 0) == 0) rel = guest_path.substr(2);
  else if (guest_path.rfind("/root/", 0) == 0) rel = guest_path.substr(6);
  else return InvalidArgument("guest path " + Quote(guest_path) + " is not under /root");
  if (rel.empty()) return InvalidArgument("guest path " + Quote(guest_path) + " names /root itself");
  return "/" + rel;
}

Result<std::map<std::string, std::string>> ProvisionWorkDisk(
    const std::string& image, const WorkDiskContent& content, CommandRunner& runner,
    apply::StepProgress& progress) {
  disk::Debugfs fs(image, runner);
  if (!content.authorized_key.empty()) {
    // sshd's StrictModes wants /root and ~/.ssh owned by root and not
    // group/world writable.
    BANGER_RETURN_IF_ERROR(fs.MakeDirs("/.ssh", {0, 0, 0700}));
    BANGER_RETURN_IF_ERROR(fs.WriteFile("/.ssh/authorized_keys", content.authorized_key + "\n",
                                        {0, 0, 0600}, {0, 0, 0700}));
  }
  if (!content.gitconfig.empty()) {
    BANGER_RETURN_IF_ERROR(fs.WriteFile("/.gitconfig", content.gitconfig, {0, 0, 0644}, kRootDirs));
  }
  std::map<std::string, std::string> synced;
  for (const auto& f : content.file_syncs) {
    std::string host = ExpandTilde(f.host, content.home);
    // Follow a symlinked entry (dotfiles often are) to what it points at.
    if (char resolved[PATH_MAX]; realpath(host.c_str(), resolved)) host = resolved;
    auto digest = observe::DigestHostPath(host);
    if (!digest.ok()) return std::move(digest).error().WithContext("file_sync " + Quote(f.name));
    if (digest->empty()) {
      progress.Note("warning: file_sync " + Quote(f.name) + ": host path " + Quote(host) +
                    " does not exist; skipped");
      synced[f.name] = "";
      continue;
    }
    auto dest = WorkDiskPath(f.guest);
    if (!dest.ok()) return std::move(dest).error().WithContext("file_sync " + Quote(f.name));
    const bool is_dir = IsDirectory(host);
    Status st = CopyIntoImage(fs, host, *dest,
                              is_dir ? std::nullopt : std::optional<uint32_t>(f.mode.value_or(0600)));
    if (!st.ok()) return std::move(st).error().WithContext("file_sync " + Quote(f.name));
    synced[f.name] = *digest;
  }
  return synced;
}

std::string HostGitIdentity(CommandRunner& runner) {
  std::string out;
  for (const char* key : {"user.name", "user.email"}) {
    auto r = runner.Run({.argv = {"git", "config", "--global", "--get", key},
                         .timeout = std::chrono::seconds(5)});
    if (!r.ok() || r->exit_code != 0) continue;
    std::string v = r->out;
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    if (v.empty() || v.find('\n') != std::string::npos) continue;
    out += std::string("\t") + (key[5] == 'n' ? "name" : "email") + " = " + v + "\n";
  }
  return out.empty() ? "" : "[user]\n" + out;
}

}  // namespace banger::runtime
