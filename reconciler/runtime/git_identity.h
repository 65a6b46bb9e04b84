// The host's git identity, set in a guest's /root/.gitconfig.
//
// Only user.name and user.email are banger's to set: everything else in the
// guest's file (aliases, includes, credential helpers, comments) belongs to
// whoever works in the VM and survives every boot. The file is edited as
// text, the way `git config --global user.name X` edits it, so the guest
// needs no git of its own for this.
#pragma once

#include <string>
#include <string_view>

#include "reconciler/os/exec.h"

namespace banger::runtime {

struct GitIdentity {
  std::string name;   // empty: not set on the host, left alone in the guest
  std::string email;
  bool empty() const { return name.empty() && email.empty(); }
};

// user.name and user.email from the host's global git config; a key is
// empty when git, the key or a single-line value is missing.
GitIdentity HostGitIdentity(CommandRunner& runner);

// `gitconfig` with the identity's non-empty keys set in its [user] section:
// the last existing assignment of a key is rewritten in place and earlier
// ones (which it shadowed) are dropped; a key not yet there is added to the
// last [user] section, or a [user] section is appended. Every other line is
// kept byte for byte.
std::string SetGitIdentity(std::string_view gitconfig, const GitIdentity& identity);

// A value as git writes it: \, " and control characters escaped, quoted
// when it has leading or trailing space or a comment character.
std::string EncodeGitConfigValue(std::string_view value);

}  // namespace banger::runtime
