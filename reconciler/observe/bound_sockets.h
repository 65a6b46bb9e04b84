// Which host sockets are bound on given ports, from /proc/net/{tcp,udp}{,6}
// (TCP listeners and unconnected UDP sockets), with the owning process when
// /proc/<pid>/fd shows it (only the caller's own processes, unless root).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "reconciler/plan/observed.h"

namespace banger::observe {

struct ProcNetSocket {
  plan::BoundSocket socket;
  uint64_t inode = 0;
};

// Parses one /proc/net table's text. IPv6 wildcard (::) reads as 0.0.0.0,
// v4-mapped addresses as IPv4; other IPv6 addresses are skipped (published
// ports are IPv4). Only sockets on `ports` are returned.
std::vector<ProcNetSocket> ParseProcNet(const std::string& text, const std::string& proto,
                                        bool ipv6, const std::set<uint32_t>& ports);

// The sockets on `ports` bound in the caller's network namespace; tables
// that cannot be read are skipped.
std::vector<plan::BoundSocket> ReadBoundSockets(const std::set<uint32_t>& ports);

}  // namespace banger::observe
