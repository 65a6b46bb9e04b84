// Paths a less privileged user controls, acted on by a root process.
//
// Opening never follows a symlink anywhere in the path (openat2
// RESOLVE_NO_SYMLINKS), so the helper acts on exactly the object the path
// names lexically.
//
// chown_socket: hands a VMM's unix socket (created by a root-run VMM, say)
// to the owner uid.
//
// The rule, all of which must hold:
//  * the path is absolute and clean (no "", "." or ".." component);
//  * it lies inside one of the allowed directories (by default the owner's
//    home and /run/user/<uid>; `--allow-dir` adds more);
//  * no component of it is a symlink (resolved with RESOLVE_NO_SYMLINKS);
//  * it names a unix socket, and its parent directory belongs to the owner.
// The ownership change is made through the O_PATH descriptor that was
// checked, so the object cannot be swapped between check and chown.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::helper {

// openat2(AT_FDCWD, path, flags | O_CLOEXEC | O_NOFOLLOW, RESOLVE_NO_SYMLINKS).
// A symlink anywhere in the path fails with ELOOP, except a final one under
// O_PATH, which opens the link itself (callers then see S_ISLNK and refuse).
Result<UniqueFd> OpenNoSymlinks(const std::string& path, int flags);

// True when `path` equals `dir` or lies below it (component-wise, both
// clean absolute paths).
bool IsWithin(const std::string& path, const std::string& dir);

// The lexical part of the rule: clean absolute path inside an allowed dir.
Status CheckSocketPathAllowed(const std::string& path,
                              const std::vector<std::string>& allowed_dirs);

Status ChownSocket(const std::string& path, const std::vector<std::string>& allowed_dirs,
                   uid_t owner);

// The owner's home and /run/user/<uid> (the home only when passwd knows it).
std::vector<std::string> DefaultAllowedSocketDirs(uid_t owner);

}  // namespace banger::helper
