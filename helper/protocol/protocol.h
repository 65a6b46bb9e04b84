// The root helper's protocol: a closed set of typed requests and responses.
//
// This header is the only thing the engine and the helper share. Each
// request type names its operation (kOp) and its response type (Response);
// the codec (codec.h) decodes them strictly and validates every field before
// the helper acts on them, so a request that reaches an operation is known to
// be well formed: names carry banger's prefix, paths are absolute and clean,
// addresses parse.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace banger::helper {

// Bumped on any incompatible change of a request or response shape.
inline constexpr int kProtocolVersion = 1;

// Every link the helper touches starts with this prefix; taps made by the
// engine's pool use kTapPrefix.
inline constexpr const char* kLinkPrefix = "bg";
inline constexpr const char* kTapPrefix = "bgt-";

// Where the helper serving `uid` listens unless told otherwise.
inline std::string DefaultSocketPath(uint32_t uid) {
  return "/run/banger/helper-" + std::to_string(uid) + ".sock";
}

// ---- responses -------------------------------------------------------------

struct EmptyResponse {};

struct PingResponse {
  std::string version;   // the helper's build: BuildString() (reconciler/base/version.h)
  int protocol = 0;      // kProtocolVersion of the helper
  uint32_t owner_uid = 0;
};

// A tap; the response frame carries an open fd of it (SCM_RIGHTS).
struct TapResponse {
  std::string name;
};

struct TapInfo {
  std::string name;
  std::string bridge;
  std::string vm;  // empty: free (in a pool); else the VM it was assigned to
};

struct ListTapsResponse {
  std::vector<TapInfo> taps;
};

struct DeviceResponse {
  std::string device;  // "/dev/loop7", "/dev/mapper/bg-web0"
};

// ---- requests --------------------------------------------------------------

struct PingRequest {
  static constexpr const char* kOp = "ping";
  using Response = PingResponse;
};

// Creates the bridge when missing, sets its IPv4 address (replacing any
// other) and brings it up. A pre-existing link of that name is refused unless
// the helper created it.
struct EnsureBridgeRequest {
  static constexpr const char* kOp = "ensure_bridge";
  using Response = EmptyResponse;
  std::string name;
  std::string address;  // CIDR of the bridge itself: "172.30.0.1/24"
};

// A persistent tap (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR) owned by the owner uid,
// attached to `bridge` (created by the helper) and up. It starts free.
struct CreateTapRequest {
  static constexpr const char* kOp = "create_tap";
  using Response = TapResponse;
  std::string name;
  std::string bridge;
};

struct OpenTapRequest {
  static constexpr const char* kOp = "open_tap";
  using Response = TapResponse;
  std::string name;
};

// Marks a free tap as used by `vm`. Fails (busy) when the tap is assigned to
// another VM, so two engines sharing one helper never take the same tap.
struct AssignTapRequest {
  static constexpr const char* kOp = "assign_tap";
  using Response = EmptyResponse;
  std::string name;
  std::string vm;
};

struct DeleteTapRequest {
  static constexpr const char* kOp = "delete_tap";
  using Response = EmptyResponse;
  std::string name;
};

struct ListTapsRequest {
  static constexpr const char* kOp = "list_taps";
  using Response = ListTapsResponse;
};

// Masquerades traffic from one guest address leaving through any interface
// other than `bridge`. Idempotent.
struct NatEnableRequest {
  static constexpr const char* kOp = "nat_enable";
  using Response = EmptyResponse;
  std::string address;  // the guest's IPv4 address, no prefix
  std::string bridge;
};

struct NatDisableRequest {
  static constexpr const char* kOp = "nat_disable";
  using Response = EmptyResponse;
  std::string address;
};

struct LoopAttachRequest {
  static constexpr const char* kOp = "loop_attach";
  using Response = DeviceResponse;
  std::string path;  // a regular file owned by the owner uid
  bool read_only = false;
};

struct LoopDetachRequest {
  static constexpr const char* kOp = "loop_detach";
  using Response = EmptyResponse;
  std::string device;  // "/dev/loopN", attached by this helper
};

// A device-mapper snapshot of `origin` with copy-on-write store `cow`; both
// must be loop devices this helper attached.
struct DmSnapshotCreateRequest {
  static constexpr const char* kOp = "dm_snapshot_create";
  using Response = DeviceResponse;
  std::string name;
  std::string origin;
  std::string cow;
  bool persistent = true;      // "P" (survives reboots) or "N"
  uint32_t chunk_sectors = 8;  // a power of two, 512-byte sectors
};

struct DmSnapshotRemoveRequest {
  static constexpr const char* kOp = "dm_snapshot_remove";
  using Response = EmptyResponse;
  std::string name;
};

// Gives a VMM's unix socket to the owner uid. The rule is in socket_ops.h.
struct ChownSocketRequest {
  static constexpr const char* kOp = "chown_socket";
  using Response = EmptyResponse;
  std::string path;
};

using Request =
    std::variant<PingRequest, EnsureBridgeRequest, CreateTapRequest,
                 OpenTapRequest, AssignTapRequest, DeleteTapRequest,
                 ListTapsRequest, NatEnableRequest, NatDisableRequest,
                 LoopAttachRequest, LoopDetachRequest, DmSnapshotCreateRequest,
                 DmSnapshotRemoveRequest, ChownSocketRequest>;

// The operation name of a request: "create_tap".
const char* OperationName(const Request& request);

// All operation names, in protocol order (for messages and tests).
std::vector<std::string> OperationNames();

}  // namespace banger::helper
