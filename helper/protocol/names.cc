#include "helper/protocol/names.h"

#include <arpa/inet.h>
#include <limits.h>

#include <charconv>
#include <cstdio>

#include "helper/protocol/protocol.h"

namespace banger::helper {

namespace {

bool IsLowerAlnumDash(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// "'bg_0' contains '_'; allowed are [a-z0-9-]", unprintables as \xNN.
std::string BadChar(std::string_view value, char c, std::string_view allowed) {
  std::string shown(1, c);
  if (c < 0x21 || c > 0x7e) {
    char buf[8];
    snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
    shown = buf;
  }
  std::string printable;
  for (char v : value) printable += (v < 0x20 || v > 0x7e) ? '?' : v;
  return Quote(printable) + " contains " + Quote(shown) + "; allowed are " +
         std::string(allowed);
}

Status ValidatePrefixedName(std::string_view name, size_t max_length,
                            std::string_view what) {
  if (name.empty()) return InvalidArgument(std::string(what) + " is empty");
  if (name.size() > max_length) {
    return InvalidArgument(Quote(name) + " is " + std::to_string(name.size()) +
                           " characters, longer than the " +
                           std::to_string(max_length) + " " + std::string(what) +
                           " allows");
  }
  for (char c : name) {
    if (!IsLowerAlnumDash(c)) return InvalidArgument(BadChar(name, c, "[a-z0-9-]"));
  }
  if (name.substr(0, 2) != kLinkPrefix) {
    return InvalidArgument(Quote(name) + " does not start with banger's prefix " +
                           Quote(kLinkPrefix));
  }
  return OkStatus();
}

}  // namespace

Status ValidateLinkName(std::string_view name) {
  return ValidatePrefixedName(name, kMaxLinkNameLength, "an interface name");
}

Status ValidateJailDriveId(std::string_view id) {
  if (id.empty() || id.size() > 32) {
    return InvalidArgument("drive id " + Quote(id) + " must have 1 to 32 characters");
  }
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return InvalidArgument(BadChar(id, c, "[a-z0-9-]"));
  }
  return OkStatus();
}

Status ValidateVmName(std::string_view name) {
  if (name.empty()) return InvalidArgument("a VM name is empty");
  if (name.size() > 64) {
    return InvalidArgument(Quote(name) + " is longer than the 64 characters a VM name allows");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return InvalidArgument(BadChar(name, c, "[A-Za-z0-9._-]"));
  }
  return OkStatus();
}

Status ValidateCleanAbsolutePath(std::string_view path) {
  if (path.empty() || path[0] != '/') {
    return InvalidArgument(Quote(path) + " is not an absolute path");
  }
  if (path.size() >= PATH_MAX) return InvalidArgument("path is longer than PATH_MAX");
  if (path.find('\0') != std::string_view::npos) {
    return InvalidArgument("path contains a NUL byte");
  }
  if (path.size() > 1 && path.back() == '/') {
    return InvalidArgument(Quote(path) + " ends with '/'");
  }
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() && path.size() > 1) {
      return InvalidArgument(Quote(path) + " has an empty component");
    }
    if (part == "." || part == "..") {
      return InvalidArgument(Quote(path) + " has a " + Quote(part) + " component");
    }
    start = end + 1;
  }
  return OkStatus();
}

Result<uint32_t> ParseIpv4(std::string_view text) {
  // inet_pton accepts exactly four decimal parts, no leading zeros tricks
  // beyond what it documents, which is the strictness wanted here.
  if (text.size() > 15) return InvalidArgument(Quote(text) + " is not an IPv4 address");
  std::string copy(text);
  in_addr addr{};
  if (inet_pton(AF_INET, copy.c_str(), &addr) != 1) {
    return InvalidArgument(Quote(text) + " is not an IPv4 address");
  }
  return ntohl(addr.s_addr);
}

std::string FormatIpv4(uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 255) +
         "." + std::to_string((address >> 8) & 255) + "." + std::to_string(address & 255);
}

Result<Ipv4Cidr> ParseInterfaceCidr(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return InvalidArgument(Quote(text) + " is not in CIDR form (like 172.30.0.1/24)");
  }
  BANGER_ASSIGN_OR_RETURN(uint32_t address, ParseIpv4(text.substr(0, slash)));
  std::string_view prefix_text = text.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(prefix_text.data(),
                                   prefix_text.data() + prefix_text.size(), prefix);
  if (ec != std::errc() || end != prefix_text.data() + prefix_text.size() ||
      prefix_text.empty()) {
    return InvalidArgument(Quote(text) + " has a bad prefix length");
  }
  if (prefix < 8 || prefix > 30) {
    return InvalidArgument(Quote(text) + ": prefix length must be 8..30");
  }
  Ipv4Cidr cidr{address, prefix};
  if (address == cidr.network() || address == cidr.broadcast()) {
    return InvalidArgument(Quote(text) +
                           " is the network or broadcast address, not a host address");
  }
  return cidr;
}

bool PortsCollide(const PublishedPort& a, const PublishedPort& b) {
  if (a.proto != b.proto || a.host_port != b.host_port) return false;
  return a.host_address == b.host_address || a.host_address == "0.0.0.0" ||
         b.host_address == "0.0.0.0";
}

std::string DescribePort(const PublishedPort& port) {
  return port.proto + " " + port.host_address + ":" + std::to_string(port.host_port) + " -> " +
         std::to_string(port.guest_port);
}

Status ValidatePublishedPorts(const std::vector<PublishedPort>& ports) {
  if (ports.size() > kMaxPublishedPorts) {
    return InvalidArgument(std::to_string(ports.size()) + " ports; at most " +
                           std::to_string(kMaxPublishedPorts) + " are allowed");
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    const PublishedPort& p = ports[i];
    if (auto a = ParseIpv4(p.host_address); !a.ok()) {
      return InvalidArgument("host address: " + a.error().message());
    }
    if (p.proto != "tcp" && p.proto != "udp") {
      return InvalidArgument("protocol " + Quote(p.proto) + " is not 'tcp' or 'udp'");
    }
    if (p.host_port < 1 || p.host_port > 65535) {
      return InvalidArgument("host port " + std::to_string(p.host_port) + " is not 1-65535");
    }
    if (p.guest_port < 1 || p.guest_port > 65535) {
      return InvalidArgument("guest port " + std::to_string(p.guest_port) + " is not 1-65535");
    }
    for (size_t j = 0; j < i; ++j) {
      if (PortsCollide(ports[j], p)) {
        return InvalidArgument(Quote(DescribePort(p)) + " claims the host port of " +
                               Quote(DescribePort(ports[j])));
      }
    }
  }
  return OkStatus();
}

}  // namespace banger::helper
