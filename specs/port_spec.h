// A published port as written in a [[vm]]'s `ports`:
//   "8080:80"                 every host address, tcp
//   "127.0.0.1:2222:22/tcp"   one host address
//   "5353:53/udp"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"

namespace banger::specs {

struct PortSpec {
  std::string host_address = "0.0.0.0";  // IPv4; 0.0.0.0: every host address
  uint32_t host_port = 0;
  uint32_t guest_port = 0;
  std::string proto = "tcp";             // "tcp" or "udp"

  bool operator==(const PortSpec&) const = default;
};

// Parses "[host_address:]host_port:guest_port[/tcp|/udp]"; the message of a
// failure says what is wrong, to be shown at the element.
Result<PortSpec> ParsePortSpec(std::string_view text);

// The canonical spelling, which ParsePortSpec reads back: "8080:80/tcp",
// "127.0.0.1:2222:22/tcp".
std::string FormatPortSpec(const PortSpec& port);

// True when both claim the same host socket: same protocol and port, and the
// same host address or either one 0.0.0.0.
bool PortSpecsCollide(const PortSpec& a, const PortSpec& b);

}  // namespace banger::specs
