#include "helper/owner_paths.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper/protocol/names.h"
#include "reconciler/os/fs.h"

namespace banger::helper {

Result<UniqueFd> OpenNoSymlinks(const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how);
  if (fd < 0) {
    if (errno == ELOOP) {
      return Error(Code::kPermissionDenied,
                   "open " + Quote(path) + ": the path contains a symlink", ELOOP);
    }
    return Error::FromErrno("open " + Quote(path));
  }
  return UniqueFd(static_cast<int>(fd));
}

bool IsWithin(const std::string& path, const std::string& dir) {
  if (dir == "/") return !path.empty() && path[0] == '/';
  if (path.compare(0, dir.size(), dir) != 0) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}


Status CheckSocketPathAllowed(const std::string& path,
                              const std::vector<std::string>& allowed_dirs) {
  BANGER_RETURN_IF_ERROR(ValidateCleanAbsolutePath(path));
  for (const std::string& dir : allowed_dirs) {
    if (IsWithin(path, dir) && path != dir) return OkStatus();
  }
  std::string list;
  for (const std::string& dir : allowed_dirs) list += (list.empty() ? "" : ", ") + Quote(dir);
  return Error(Code::kPermissionDenied,
               Quote(path) + " is not inside a directory the helper may change sockets in (" +
                   (list.empty() ? std::string("none configured") : list) + ")");
}

Status ChownSocket(const std::string& path, const std::vector<std::string>& allowed_dirs,
                   uid_t owner) {
  std::string what = "chown socket " + Quote(path);
  auto allowed = CheckSocketPathAllowed(path, allowed_dirs);
  if (!allowed.ok()) return allowed.error().WithContext(what);

  auto parent = OpenNoSymlinks(Dirname(path), O_PATH | O_DIRECTORY);
  if (!parent.ok()) return parent.error().WithContext(what);
  struct stat dir_st {};
  if (fstat(parent->get(), &dir_st) != 0) return Error::FromErrno(what + ": stat directory");
  if (dir_st.st_uid != owner) {
    return Error(Code::kPermissionDenied,
                 what + ": its directory belongs to uid " + std::to_string(dir_st.st_uid) +
                     ", not the owner " + std::to_string(owner));
  }

  auto sock = OpenNoSymlinks(path, O_PATH);
  if (!sock.ok()) return sock.error().WithContext(what);
  struct stat st {};
  if (fstat(sock->get(), &st) != 0) return Error::FromErrno(what + ": stat");
  // O_PATH|O_NOFOLLOW opens a final symlink itself rather than failing.
  if (S_ISLNK(st.st_mode)) return Error(Code::kPermissionDenied, what + ": it is a symlink");
  if (!S_ISSOCK(st.st_mode)) {
    return Error(Code::kPermissionDenied, what + ": not a unix socket");
  }
  if (fchownat(sock->get(), "", owner, static_cast<gid_t>(-1), AT_EMPTY_PATH) != 0) {
    return Error::FromErrno(what);
  }
  return OkStatus();
}

std::vector<std::string> DefaultAllowedSocketDirs(uid_t owner) {
  std::vector<std::string> dirs;
  // getpwuid_r: the helper serves connections on several threads.
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  if (getpwuid_r(owner, &pw, buf, sizeof buf, &found) == 0 && found != nullptr &&
      found->pw_dir != nullptr && ValidateCleanAbsolutePath(found->pw_dir).ok() &&
      std::string(found->pw_dir) != "/") {
    dirs.emplace_back(found->pw_dir);
  }
  dirs.push_back("/run/user/" + std::to_string(owner));
  return dirs;
}

}  // namespace banger::helper
