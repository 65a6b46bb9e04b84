// The two systemd units `banger system install` writes, rendered from the
// install layout (pure: tested by comparing text).
//
//   banger-helper.service  root; `banger-helper serve --owner UID`, hardened
//                          to what the helper's operations need (bridges,
//                          taps, nftables, ip_forward, one dnsmasq per bridge
//                          dropping to nobody) and nothing else.
//   banger-daemon.service  a system service with User=<owner> running
//                          `banger daemon --state-dir DIR`. A system unit,
//                          not a user unit: user units (user@UID.service)
//                          stop when the owner's last session ends unless
//                          lingering is enabled, and start only at login;
//                          a system unit starts at boot and is tied to no
//                          session, so the fleet stays up after logout.
#pragma once

#include <sys/types.h>

#include <string>

#include "reconciler/base/error.h"

namespace banger::system {

inline constexpr const char* kHelperUnit = "banger-helper.service";
inline constexpr const char* kDaemonUnit = "banger-daemon.service";

struct InstallLayout {
  std::string owner;      // the owner's user name
  uid_t owner_uid = 0;
  gid_t owner_gid = 0;
  std::string bin_dir;    // where banger and banger-helper are installed
  std::string state_dir;  // the owner's banger state dir the daemon keeps
};

// systemd creates both for the helper unit (StateDirectory=,
// RuntimeDirectory=) and removes the runtime one when the helper stops.
inline constexpr const char* kHelperStateDir = "/var/lib/banger-helper";
inline constexpr const char* kRuntimeDir = "/run/banger";

// Checks a path can stand in a unit file unquoted and unescaped: absolute,
// clean, and free of whitespace, quotes, backslashes, '%' (a specifier)
// and control characters. Errors name `what` and the path.
Status ValidateUnitPath(const std::string& what, const std::string& path);

std::string RenderHelperUnit(const InstallLayout& layout);
std::string RenderDaemonUnit(const InstallLayout& layout);

}  // namespace banger::system
