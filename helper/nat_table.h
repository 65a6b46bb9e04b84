// Outbound NAT for guests, confined to banger's own nftables table.
//
// The whole table `ip banger` is rendered from the helper's NAT records and
// replaced in one `nft -f -` transaction, so it always matches the record
// and nothing outside it is ever read or changed. With at least one guest it
// holds one masquerade rule per guest address and drops guest traffic to the
// cloud metadata address 169.254.169.254 (forwarded or addressed to the host);
// with none the table is deleted.
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
std::string RenderNatScript(const std::vector<NatRecord>& nat);

// Runs the script through `nft -f -`.
Status ApplyNatTable(CommandRunner& runner, const std::vector<NatRecord>& nat);

// net.ipv4.ip_forward=1 in the helper's network namespace. It is never
// turned back off: other software on the host may depend on it.
Status EnableIpv4Forwarding();

}  // namespace banger::helper
