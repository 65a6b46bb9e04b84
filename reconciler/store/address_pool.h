// IPv4 address arithmetic for VM address allocation, kept free of SQLite so
// the choice of address can be tested on its own.
//
// In a subnet the network and broadcast addresses are never handed out, and
// the first host address belongs to the bridge (the VMs' gateway), so VMs
// get addresses from the second host address upward.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"

namespace banger::store {

struct Ipv4Subnet {
  uint32_t network = 0;  // host byte order, host bits zero
  int prefix = 0;        // 0..30

  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  uint32_t broadcast() const { return network | ~mask(); }
  uint32_t gateway() const { return network + 1; }
  bool Contains(uint32_t addr) const { return (addr & mask()) == network; }
  // Network, broadcast and gateway excluded.
  uint64_t vm_capacity() const { return uint64_t{broadcast()} - network - 2; }
};

// Strict dotted quad: four decimal octets, no leading zeros, no spaces.
Result<uint32_t> ParseIpv4(std::string_view text);
std::string FormatIpv4(uint32_t addr);

// "a.b.c.d/n" with n in 0..30 (smaller subnets leave no VM address) and the
// host bits zero. Fails with kInvalidArgument quoting the text.
Result<Ipv4Subnet> ParseSubnet(std::string_view cidr);

// True for an address a VM may own: inside the subnet and not the network,
// broadcast or gateway address.
bool IsVmAddress(const Ipv4Subnet& subnet, uint32_t addr);

// The lowest VM address of `subnet` not in `taken` (addresses outside the
// subnet in `taken` are ignored). Fails with kFailedPrecondition when every
// VM address is taken.
Result<uint32_t> LowestFreeAddress(const Ipv4Subnet& subnet, const std::set<uint32_t>& taken);

}  // namespace banger::store
