// Taps through /dev/net/tun. Every tap banger uses is IFF_TAP|IFF_NO_PI|
// IFF_VNET_HDR, the flags QEMU's `-netdev tap,fd=N,vhost=off` expects.
#pragma once

#include <sys/types.h>

#include <string>

#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::helper {

// Creates a persistent tap owned by `owner` and returns an fd attached to it.
// Fails (already exists) if a link of that name exists.
Result<UniqueFd> CreatePersistentTap(const std::string& name, uid_t owner);

// Attaches to an existing tap. A single-queue tap already attached to
// another fd (a running VMM, another engine's pool) reports Code::kBusy.
Result<UniqueFd> OpenTap(const std::string& name);

// The name the kernel reports for a tap fd (TUNGETIFF).
Result<std::string> TapNameOf(int fd);

}  // namespace banger::helper
