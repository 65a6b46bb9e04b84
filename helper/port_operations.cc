// ports_set / ports_clear: published ports as DNAT rules in banger's table
// (nat_table.h renders them). The record holds each VM's whole set, so a
// set replaces, a clear removes, and the table is re-rendered from the
// record either way.
#include "helper/helper_service.h"
#include "helper/nat_table.h"
#include "helper/protocol/names.h"

namespace banger::helper {

Result<const BridgeRecord*> HelperService::GuestBridge(const std::string& address) {
  BANGER_ASSIGN_OR_RETURN(uint32_t guest, ParseIpv4(address));
  for (const BridgeRecord& bridge : store_.state().bridges) {
    auto cidr = ParseInterfaceCidr(bridge.address);
    if (!cidr.ok() || !cidr->Contains(guest)) continue;
    if (guest == cidr->address || guest == cidr->network() || guest == cidr->broadcast()) break;
    return &bridge;
  }
  return InvalidArgument(Quote(address) +
                         " is not a guest address in the subnet of a bridge the helper created");
}

Status HelperService::PrepareBridgeFor(const PortRecord& record) {
  BANGER_RETURN_IF_ERROR(EnableIpv4Forwarding());
  bool loopback = false;
  for (const PublishedPort& p : record.ports) {
    if (p.host_address == "0.0.0.0" || p.host_address.rfind("127.", 0) == 0) loopback = true;
  }
  if (!loopback) return OkStatus();
  BANGER_ASSIGN_OR_RETURN(const BridgeRecord* bridge, GuestBridge(record.address));
  return EnableRouteLocalnet(bridge->name);
}

Status HelperService::ReplacePorts(const std::string& vm, std::optional<PortRecord> ports,
                                   const std::string& what) {
  HelperState& state = store_.state();
  std::vector<PortRecord> next;
  for (const PortRecord& r : state.ports) {
    if (r.vm != vm) next.push_back(r);
  }
  if (ports) next.push_back(std::move(*ports));
  if (auto st = ApplyNatTable(runner(), state.nat, next, state.bridges); !st.ok()) {
    return st.error().WithContext(what);
  }
  std::vector<PortRecord> previous = std::move(state.ports);
  state.ports = std::move(next);
  if (auto st = store_.Save(); !st.ok()) {
    state.ports = std::move(previous);
    // Best effort: the table follows the record.
    (void)ApplyNatTable(runner(), state.nat, state.ports, state.bridges);
    return st.error().WithContext(what);
  }
  return OkStatus();
}

Result<EmptyResponse> HelperService::Do(const PortsSetRequest& q, UniqueFd*) {
  std::string what = "publish the ports of vm " + Quote(q.vm);
  std::lock_guard lock(mu_);
  HelperState& state = store_.state();
  if (q.ports.empty()) {
    if (state.FindPorts(q.vm) == nullptr) return EmptyResponse{};
    BANGER_RETURN_IF_ERROR(ReplacePorts(q.vm, std::nullopt, what));
    return EmptyResponse{};
  }
  if (auto bridge = GuestBridge(q.address); !bridge.ok()) {
    return bridge.error().WithContext(what);
  }
  for (const PortRecord& other : state.ports) {
    if (other.vm == q.vm) continue;
    for (const PublishedPort& theirs : other.ports) {
      for (const PublishedPort& mine : q.ports) {
        if (PortsCollide(mine, theirs)) {
          return Error(Code::kBusy, what + ": host port " + mine.proto + " " +
                                        mine.host_address + ":" +
                                        std::to_string(mine.host_port) +
                                        " is already published by vm " + Quote(other.vm));
        }
      }
    }
  }
  // Before the no-change check: a bridge made again since has lost its
  // route_localnet, and setting it twice costs nothing.
  PortRecord record{q.vm, q.address, q.ports};
  if (auto st = PrepareBridgeFor(record); !st.ok()) return st.error().WithContext(what);
  if (const PortRecord* current = state.FindPorts(q.vm);
      current && current->address == q.address && current->ports == q.ports) {
    return EmptyResponse{};
  }
  BANGER_RETURN_IF_ERROR(ReplacePorts(q.vm, std::move(record), what));
  return EmptyResponse{};
}

Result<EmptyResponse> HelperService::Do(const PortsClearRequest& q, UniqueFd*) {
  std::lock_guard lock(mu_);
  if (store_.state().FindPorts(q.vm) == nullptr) return EmptyResponse{};
  BANGER_RETURN_IF_ERROR(ReplacePorts(q.vm, std::nullopt, "clear the ports of vm " + Quote(q.vm)));
  return EmptyResponse{};
}

}  // namespace banger::helper
