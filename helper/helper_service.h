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

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "helper/protocol/protocol.h"
#include "helper/state_store.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/unique_fd.h"

namespace banger::helper {

struct HelperConfig {
  uid_t owner_uid = 0;
  std::string state_dir = "/var/lib/banger-helper";
  std::vector<std::string> allowed_socket_dirs;  // for chown_socket
  CommandRunner* runner = nullptr;               // nullptr: SystemRunner()
  std::string dm_control = "/dev/mapper/control";
};

// What goes back to the peer: a response frame and, for taps, their fd.
struct Reply {
  std::string frame;
  UniqueFd fd;
};

class HelperService {
 public:
  static Result<std::unique_ptr<HelperService>> Create(HelperConfig config);

  // Decodes, validates and runs one request frame. Never fails: a bad
  // request or a failed operation becomes an error response.
  Reply HandleFrame(std::string_view frame);
  Reply Handle(const Request& request);

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
  Result<DeviceResponse> Do(const LoopAttachRequest& q, UniqueFd* fd);
  Result<EmptyResponse> Do(const LoopDetachRequest& q, UniqueFd* fd);
  Result<DeviceResponse> Do(const DmSnapshotCreateRequest& q, UniqueFd* fd);
  Result<EmptyResponse> Do(const DmSnapshotRemoveRequest& q, UniqueFd* fd);
  Result<EmptyResponse> Do(const ChownSocketRequest& q, UniqueFd* fd);

  CommandRunner& runner() { return config_.runner ? *config_.runner : SystemRunner(); }

  HelperConfig config_;
  std::mutex mu_;  // guards store_ and pending_taps_
  StateStore store_;
  std::set<std::string> pending_taps_;  // being created outside the lock
};

}  // namespace banger::helper
