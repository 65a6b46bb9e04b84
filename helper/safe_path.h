// Opening paths a less privileged user controls, without following any
// symlink on the way (openat2 RESOLVE_NO_SYMLINKS), so a root process acts
// on exactly the object the path names lexically.
#pragma once

#include <string>

#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::helper {

// openat2(AT_FDCWD, path, flags | O_CLOEXEC | O_NOFOLLOW, RESOLVE_NO_SYMLINKS).
// A symlink anywhere in the path fails with ELOOP.
Result<UniqueFd> OpenNoSymlinks(const std::string& path, int flags);

// True when `path` equals `dir` or lies below it (component-wise, both
// clean absolute paths).
bool IsWithin(const std::string& path, const std::string& dir);

}  // namespace banger::helper
