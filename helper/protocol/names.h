// Validation of the values a helper request carries. Pure functions: each
// returns the reason a value is refused, phrased to follow "field 'x': ".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "helper/protocol/protocol.h"
#include "reconciler/base/error.h"

namespace banger::helper {

// Linux's IFNAMSIZ minus the terminating NUL.
inline constexpr size_t kMaxLinkNameLength = 15;

// A link banger may manage: starts with kLinkPrefix ("bg"), at most 15
// characters, only [a-z0-9-].
Status ValidateLinkName(std::string_view name);

// A VM name as the engine spells it: 1-64 characters of [A-Za-z0-9._-].
Status ValidateVmName(std::string_view name);

// A drive id in a jail_start request: 1-32 characters of [a-z0-9-].
Status ValidateJailDriveId(std::string_view id);

// The most drives one jailed VM may have.
inline constexpr size_t kMaxJailDrives = 8;

// An absolute path with no empty, "." or ".." component and no trailing '/'.
Status ValidateCleanAbsolutePath(std::string_view path);

// Dotted-quad IPv4, host byte order on success.
Result<uint32_t> ParseIpv4(std::string_view text);
std::string FormatIpv4(uint32_t address);

struct Ipv4Cidr {
  uint32_t address = 0;  // host byte order
  int prefix = 0;

  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  uint32_t network() const { return address & mask(); }
  uint32_t broadcast() const { return network() | ~mask(); }
  bool Contains(uint32_t other) const { return (other & mask()) == network(); }
};

// "172.30.0.1/24": an interface address, so the prefix is 8..30 and the
// address is neither the network nor the broadcast address.
Result<Ipv4Cidr> ParseInterfaceCidr(std::string_view text);

// True when the two ports claim the same host socket address: the same
// protocol and port, and the same host address or either one "0.0.0.0".
bool PortsCollide(const PublishedPort& a, const PublishedPort& b);

// Each port's addresses, numbers (1-65535) and protocol (tcp|udp), and no
// two of the set colliding.
Status ValidatePublishedPorts(const std::vector<PublishedPort>& ports);

// "tcp 127.0.0.1:2222 -> 22" for messages.
std::string DescribePort(const PublishedPort& port);

}  // namespace banger::helper
