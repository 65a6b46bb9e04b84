#include "helper/owner_paths.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

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

}  // namespace banger::helper
