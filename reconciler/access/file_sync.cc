#include "reconciler/access/file_sync.h"

#include <sys/stat.h>

#include "reconciler/observe/observer.h"
#include "reconciler/os/fs.h"
#include "reconciler/runtime/work_disk_provision.h"

namespace banger::access {
namespace {

Status CopyTree(GuestFiles& guest, const std::string& host, const std::string& dest, mode_t dir_mode) {
  BANGER_RETURN_IF_ERROR(guest.MakeDir(dest, dir_mode));
  BANGER_ASSIGN_OR_RETURN(auto names, ListDir(host));
  for (const auto& name : names) {
    const std::string h = JoinPath(host, name);
    const std::string d = JoinPath(dest, name);
    struct stat st;
    if (lstat(h.c_str(), &st) != 0) return Error::FromErrno("stat " + Quote(h));
    if (S_ISDIR(st.st_mode)) {
      BANGER_RETURN_IF_ERROR(CopyTree(guest, h, d, st.st_mode & 07777));
    } else if (S_ISREG(st.st_mode)) {
      BANGER_RETURN_IF_ERROR(guest.PutFile(h, d, st.st_mode & 07777));
    }
  }
  return OkStatus();
}

Status SyncOne(const specs::FileSyncSpec& f, const std::string& host, const std::string& dest,
               GuestFiles& guest) {
  // The top-level path is followed if it is a symlink: dotfiles are often
  // links into a repository, and the guest wants the content.
  struct stat st;
  if (stat(host.c_str(), &st) != 0) return Error::FromErrno("stat " + Quote(host));
  BANGER_RETURN_IF_ERROR(guest.MakeParents(dest));
  if (S_ISDIR(st.st_mode)) return CopyTree(guest, host, dest, st.st_mode & 07777);
  if (S_ISREG(st.st_mode)) return guest.PutFile(host, dest, f.mode.value_or(0600));
  return InvalidArgument("host path " + Quote(host) + " is neither a file nor a directory");
}

}  // namespace

Result<std::string> GuestDestination(const std::string& guest_path, const std::string& guest_root) {
  BANGER_ASSIGN_OR_RETURN(std::string rel, runtime::WorkDiskPath(guest_path));
  return JoinPath(guest_root, rel);
}

Result<std::map<std::string, std::string>> SyncFileEntries(
    const std::vector<specs::FileSyncSpec>& entries, const SyncRoots& roots, GuestFiles& guest,
    apply::StepProgress& progress) {
  std::map<std::string, std::string> synced;
  for (const auto& f : entries) {
    const std::string context = "file_sync " + Quote(f.name);
    const std::string host = ExpandTilde(f.host, roots.home);
    auto dest = GuestDestination(f.guest, roots.guest_root);
    if (!dest.ok()) return std::move(dest).error().WithContext(context);
    auto digest = observe::DigestHostPath(host);
    if (!digest.ok()) return std::move(digest).error().WithContext(context);
    if (digest->empty()) {
      progress.Note("warning: " + context + ": host path " + Quote(host) +
                    " does not exist; skipped");
      synced[f.name] = "";
      continue;
    }
    Status st = SyncOne(f, host, *dest, guest);
    if (!st.ok()) return std::move(st).error().WithContext(context);
    synced[f.name] = *digest;
  }
  return synced;
}

}  // namespace banger::access
