#include "specs/port_spec.h"

#include <arpa/inet.h>

#include <charconv>
#include <vector>

namespace banger::specs {
namespace {

Result<uint32_t> ParsePortNumber(std::string_view text, const char* which) {
  uint32_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgument(std::string(which) + " " + Quote(text) + " is not a number");
  }
  if (n < 1 || n > 65535) {
    return InvalidArgument(std::string(which) + " " + std::to_string(n) + " is not 1-65535");
  }
  return n;
}

}  // namespace

Result<PortSpec> ParsePortSpec(std::string_view text) {
  const std::string form = " (expected [host_address:]host_port:guest_port[/tcp|/udp])";
  PortSpec port;
  std::string_view rest = text;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    port.proto = std::string(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
    if (port.proto != "tcp" && port.proto != "udp") {
      return InvalidArgument("protocol " + Quote(port.proto) + " is not tcp or udp");
    }
  }
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t colon = rest.find(':', start);
    parts.push_back(rest.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 2 && parts.size() != 3) {
    return InvalidArgument(Quote(text) + " is not a port mapping" + form);
  }
  if (parts.size() == 3) {
    std::string address(parts[0]);
    in_addr addr{};
    if (address.size() > 15 || inet_pton(AF_INET, address.c_str(), &addr) != 1) {
      return InvalidArgument("host address " + Quote(address) + " is not an IPv4 address");
    }
    port.host_address = address;
  }
  BANGER_ASSIGN_OR_RETURN(port.host_port, ParsePortNumber(parts[parts.size() - 2], "host port"));
  BANGER_ASSIGN_OR_RETURN(port.guest_port, ParsePortNumber(parts.back(), "guest port"));
  return port;
}

std::string FormatPortSpec(const PortSpec& port) {
  std::string text;
  if (port.host_address != "0.0.0.0") text = port.host_address + ":";
  return text + std::to_string(port.host_port) + ":" + std::to_string(port.guest_port) + "/" +
         port.proto;
}

bool PortSpecsCollide(const PortSpec& a, const PortSpec& b) {
  if (a.proto != b.proto || a.host_port != b.host_port) return false;
  return a.host_address == b.host_address || a.host_address == "0.0.0.0" ||
         b.host_address == "0.0.0.0";
}

}  // namespace banger::specs
