#include "reconciler/runtime/work_disk_provision.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <optional>

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

// Sets the identity keys in /root/.gitconfig, keeping the file's other
// content, owner and mode.
Status SetGuestGitIdentity(disk::Debugfs& fs, const GitIdentity& identity,
                           apply::StepProgress& progress) {
  const std::string path = "/.gitconfig";
  BANGER_ASSIGN_OR_RETURN(std::optional<disk::InodeInfo> info, fs.Stat(path));
  std::string existing;
  disk::FileOwnership owner{0, 0, 0644};
  if (info) {
    if (!S_ISREG(info->mode)) {
      progress.Note("warning: /root/.gitconfig is not a regular file; git identity not set");
      return OkStatus();
    }
    BANGER_ASSIGN_OR_RETURN(existing, fs.ReadFile(path));
    owner = {info->uid, info->gid, info->mode & 07777};
  }
  const std::string merged = SetGitIdentity(existing, identity);
  if (info && merged == existing) return OkStatus();
  Status st = fs.WriteFile(path, merged, owner, kRootDirs);
  if (!st.ok()) return std::move(st).error().WithContext("set git identity in /root/.gitconfig");
  return OkStatus();
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
  if (!content.git_identity.empty()) {
    BANGER_RETURN_IF_ERROR(SetGuestGitIdentity(fs, content.git_identity, progress));
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

}  // namespace banger::runtime
