// Outbound NAT for guests, confined to banger's own nftables table.
//
// The whole table `ip banger` is rendered from the helper's NAT records and
// replaced in one `nft -f -` transaction, so it always matches the record
// and nothing outside it is ever read or changed. With at least one guest it
// holds one masquerade rule per guest address and drops guest traffic to the
// cloud metadata address 169.254.169.254 (forwarded or addressed to the host);
// with none the table is deleted.
//
// Published ports add DNAT rules: a `prerouting` chain for connections
// arriving from elsewhere and an `output` chain for connections the host
// itself makes. A host address of 0.0.0.0 matches any local address (`fib
// daddr type local`). A connection from the host to a loopback host address
// leaves with a 127.x source, so it is masqueraded to the bridge address, and
// the bridge needs route_localnet (EnableRouteLocalnet); while any port is
// published the table drops packets addressed to 127.0.0.0/8 arriving on any
// link but `lo` unless they are replies, so route_localnet never lets a guest
// reach the host's loopback services.
//
// The table's chains accept by default: they add NAT, they do not open a
// firewall. A host whose own forward chain drops (Docker's, for one) still
// drops guest traffic; that policy is the host's to change, not banger's.
#pragma once

#include <string>
#include <vector>

#include "helper/state_store.h"
#include "reconciler/os/exec.h"

namespace banger::helper {

inline constexpr const char* kNftFamily = "ip";
inline constexpr const char* kNftTable = "banger";
inline constexpr const char* kMetadataAddress = "169.254.169.254";

// The nft script that makes banger's table match `nat` (deleting it when
// `nat` is empty). The script declares then deletes the table first, so it
// works whether or not the table exists.
// `bridges` give each published guest address its subnet: a connection from
// that subnet to a published port (guest to guest, hairpin) is masqueraded
// to the bridge address, or the answering guest would reply directly to the
// client, bypassing the DNAT.
std::string RenderNatScript(const std::vector<NatRecord>& nat,
                            const std::vector<PortRecord>& ports = {},
                            const std::vector<BridgeRecord>& bridges = {});

// Runs the script through `nft -f -`.
Status ApplyNatTable(CommandRunner& runner, const std::vector<NatRecord>& nat,
                     const std::vector<PortRecord>& ports,
                     const std::vector<BridgeRecord>& bridges);

// net.ipv4.conf.<bridge>.route_localnet=1: lets the host route 127.x-sourced
// connections (to a loopback published port) out of the bridge and take
// their replies. Left on while the bridge exists; the table's loopback guard
// makes it harmless.
Status EnableRouteLocalnet(const std::string& bridge);

// net.ipv4.ip_forward=1 in the helper's network namespace. It is never
// turned back off: other software on the host may depend on it.
Status EnableIpv4Forwarding();

}  // namespace banger::helper
