// The helper's operations: one decoded, validated request in, one response
// frame (and at most one fd) out. It acts only on objects its record
// (StateStore) says it created, and records each object before reporting
// success, so a crash never leaves an object the helper would refuse to
// clean up later.
//
// Thread-safe: requests from concurrent connections are serialised on the
// record, except the slow part of create_tap, so a pool filling from several
// connections creates taps in parallel.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "helper/jail.h"
#include "helper/bridge_resolver.h"
#include "helper/protocol/protocol.h"
#include "helper/state_store.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/unique_fd.h"

namespace banger::helper {

struct HelperConfig {
  uid_t owner_uid = 0;
  std::string state_dir = "/var/lib/banger-helper";
  CommandRunner* runner = nullptr;     // nullptr: SystemRunner()
  std::optional<JailerSetup> jailer;   // unset: jail_start is refused
  std::string dnsmasq = "dnsmasq";     // the bridge resolvers' binary
};

// What goes back to the peer: a response frame and, for taps, their fd.
struct Reply {
  std::string frame;
  UniqueFd fd;
  std::string op;       // the request's operation; empty when it did not decode
  std::string failure;  // the error sent back; empty on success
};

class HelperService {
 public:
  static Result<std::unique_ptr<HelperService>> Create(HelperConfig config);

  // Decodes, validates and runs one request frame with the descriptor it
  // carried (if any). Never fails: a bad request or a failed operation
  // becomes an error response. Only jail_start takes a descriptor; any
  // other request that carries one is refused.
  Reply HandleFrame(std::string_view frame, UniqueFd fd = UniqueFd());
  Reply Handle(const Request& request, UniqueFd fd = UniqueFd());

  uid_t owner_uid() const { return config_.owner_uid; }

 private:
  HelperService(HelperConfig config, StateStore store)
      : config_(std::move(config)), store_(std::move(store)) {}

  Result<PingResponse> Do(const PingRequest& q, UniqueFd* fd);
  Result<EmptyResponse> Do(const EnsureBridgeRequest& q, UniqueFd* fd);
  Result<TapResponse> Do(const CreateTapRequest& q, UniqueFd* fd);
  Result<TapResponse> Do(const OpenTapRequest& q, UniqueFd* fd);
  Result<EmptyResponse> Do(const AssignTapRequest& q, UniqueFd* fd);
  Result<EmptyResponse> Do(const DeleteTapRequest& q, UniqueFd* fd);
  Result<ListTapsResponse> Do(const ListTapsRequest& q, UniqueFd* fd);
  Result<EmptyResponse> Do(const NatEnableRequest& q, UniqueFd* fd);
  Result<EmptyResponse> Do(const NatDisableRequest& q, UniqueFd* fd);
  Result<JailResponse> StartJail(const JailStartRequest& q, UniqueFd console);
  Result<EmptyResponse> Do(const JailRemoveRequest& q, UniqueFd* fd);
  Result<EmptyResponse> Do(const NameSetRequest& q, UniqueFd* fd);
  Result<EmptyResponse> Do(const NameRemoveRequest& q, UniqueFd* fd);
  Result<EmptyResponse> Do(const PortsSetRequest& q, UniqueFd* fd);
  Result<EmptyResponse> Do(const PortsClearRequest& q, UniqueFd* fd);

  // The recorded bridge whose subnet holds the guest address `address`.
  Result<const BridgeRecord*> GuestBridge(const std::string& address);
  // Forwarding on, and route_localnet on the guest's bridge when a port
  // publishes on a loopback (or every) host address. The caller holds mu_
  // or runs before serving.
  Status PrepareBridgeFor(const PortRecord& record);
  // Makes the VM's record `ports` (none: removed), the table following it.
  Status ReplacePorts(const std::string& vm, std::optional<PortRecord> ports,
                      const std::string& what);

  // Starts (or restarts, when it died) the resolver of a recorded bridge,
  // with the names the helper holds for it. The caller holds mu_.
  Result<BridgeResolver*> EnsureResolver(const BridgeRecord& bridge);
  std::string resolver_dir() const;
  // Routes ~vm to the bridge's resolver unless resolved was already told
  // for this very link (ifindex) and address: a bridge removed and made
  // again is a new link resolved knows nothing about.
  void RouteVmDomain(const std::string& bridge, const std::string& address);

  // Kills the recorded jailer if it still runs and removes its directory;
  // the caller holds mu_ and drops the record.
  Status RemoveJail(const JailRecord& jail);

  CommandRunner& runner() { return config_.runner ? *config_.runner : SystemRunner(); }

  HelperConfig config_;
  std::mutex mu_;  // guards store_ and pending_taps_
  StateStore store_;
  std::set<std::string> pending_taps_;  // being created outside the lock
  // Per bridge: VM name -> address, and the dnsmasq answering them.
  std::map<std::string, std::map<std::string, std::string>> names_;
  std::map<std::string, std::unique_ptr<BridgeResolver>> resolvers_;
  // Per bridge: the link index and address resolved last routed ~vm to.
  std::map<std::string, std::pair<unsigned, std::string>> routed_;
};

}  // namespace banger::helper
