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

namespace banger::helper {

// The lexical part of the rule: clean absolute path inside an allowed dir.
Status CheckSocketPathAllowed(const std::string& path,
                              const std::vector<std::string>& allowed_dirs);

Status ChownSocket(const std::string& path, const std::vector<std::string>& allowed_dirs,
                   uid_t owner);

// The owner's home and /run/user/<uid> (the home only when passwd knows it).
std::vector<std::string> DefaultAllowedSocketDirs(uid_t owner);

}  // namespace banger::helper
