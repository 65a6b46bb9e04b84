#include "reconciler/store/address_pool.h"

namespace banger::store {

namespace {

std::string SubnetText(const Ipv4Subnet& s) {
  return FormatIpv4(s.network) + "/" + std::to_string(s.prefix);
}

// Parses a decimal number with no sign, no leading zeros and at most
// `max_digits` digits; false on anything else.
bool ParseDecimal(std::string_view text, size_t max_digits, uint32_t& out) {
  if (text.empty() || text.size() > max_digits) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  out = value;
  return true;
}

}  // namespace

Result<uint32_t> ParseIpv4(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("invalid IPv4 address " + Quote(text) +
                           ": expected four decimal octets like '172.30.0.2'");
  };
  uint32_t addr = 0;
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    size_t end = i < 3 ? text.find('.', start) : text.size();
    if (end == std::string_view::npos) return bad();
    uint32_t octet = 0;
    if (!ParseDecimal(text.substr(start, end - start), 3, octet) || octet > 255) return bad();
    addr = (addr << 8) | octet;
    start = end + 1;
  }
  return addr;
}

std::string FormatIpv4(uint32_t addr) {
  return std::to_string(addr >> 24) + "." + std::to_string((addr >> 16) & 0xff) + "." +
         std::to_string((addr >> 8) & 0xff) + "." + std::to_string(addr & 0xff);
}

Result<Ipv4Subnet> ParseSubnet(std::string_view cidr) {
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos)
    return InvalidArgument("invalid subnet " + Quote(cidr) + ": expected 'a.b.c.d/n'");
  Result<uint32_t> addr = ParseIpv4(cidr.substr(0, slash));
  if (!addr.ok()) return InvalidArgument("invalid subnet " + Quote(cidr) + ": " + addr.error().message());
  uint32_t prefix = 0;
  if (!ParseDecimal(cidr.substr(slash + 1), 2, prefix) || prefix > 32)
    return InvalidArgument("invalid subnet " + Quote(cidr) + ": prefix length must be 0..32");
  if (prefix > 30) {
    return InvalidArgument("subnet " + Quote(cidr) +
                           " is too small: it needs room for the bridge and at least one VM "
                           "(use /30 or larger)");
  }
  Ipv4Subnet subnet{*addr, static_cast<int>(prefix)};
  if ((*addr & ~subnet.mask()) != 0) {
    subnet.network = *addr & subnet.mask();
    return InvalidArgument("invalid subnet " + Quote(cidr) + ": host bits are set (did you mean " +
                           Quote(SubnetText(subnet)) + "?)");
  }
  return subnet;
}

bool IsVmAddress(const Ipv4Subnet& subnet, uint32_t addr) {
  return subnet.Contains(addr) && addr != subnet.network && addr != subnet.broadcast() &&
         addr != subnet.gateway();
}

Result<uint32_t> LowestFreeAddress(const Ipv4Subnet& subnet, const std::set<uint32_t>& taken) {
  // Walks candidates and the sorted taken set together: the answer is found
  // after at most |taken| + 1 steps, whatever the subnet size.
  uint32_t candidate = subnet.gateway() + 1;
  auto it = taken.lower_bound(candidate);
  while (candidate < subnet.broadcast()) {
    if (it == taken.end() || *it != candidate) return candidate;
    ++candidate;
    ++it;
  }
  return FailedPrecondition("subnet " + Quote(SubnetText(subnet)) + " has no free address: all " +
                            std::to_string(subnet.vm_capacity()) + " VM addresses are in use");
}

}  // namespace banger::store
