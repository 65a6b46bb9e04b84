// Paths a less privileged user controls, acted on by a root process.
//
// Opening never follows a symlink anywhere in the path (openat2
// RESOLVE_NO_SYMLINKS), so the helper acts on exactly the object the path
// names lexically.
#pragma once

#include <string>

#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::helper {

// openat2(AT_FDCWD, path, flags | O_CLOEXEC | O_NOFOLLOW, RESOLVE_NO_SYMLINKS).
// A symlink anywhere in the path fails with ELOOP, except a final one under
// O_PATH, which opens the link itself (callers then see S_ISLNK and refuse).
Result<UniqueFd> OpenNoSymlinks(const std::string& path, int flags);

}  // namespace banger::helper
