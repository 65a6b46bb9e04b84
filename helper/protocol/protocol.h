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
inline constexpr int kProtocolVersion = 4;

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

// A jailed Firecracker: its PID (the jailer execs Firecracker in place) and
// the jail's root directory as the host sees it.
struct JailResponse {
  uint32_t pid = 0;
  std::string root;
};

// Names inside a jail (as Firecracker sees them, below "/").
inline constexpr const char* kJailKernel = "vmlinux";
inline constexpr const char* kJailInitrd = "initrd";
inline constexpr const char* kJailApiSocket = "firecracker.sock";
inline std::string JailDriveName(const std::string& id) { return "drive-" + id; }

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

// Starts Firecracker under the jailer for `vm`, as the owner (jail.h says
// why). `kernel`, `initrd` (may be empty) and each drive must be the
// owner's regular files on the jail directory's filesystem; they are hard-
// linked into the jail as kJailKernel, kJailInitrd and JailDriveName(id).
// The request carries one descriptor, the jailer's stdout and stderr (the
// engine's console logger pipe). A previous jail of the VM whose process is
// gone is removed first; one still running is refused (busy).
struct JailDrive {
  std::string id;    // "rootfs", "work": [a-z0-9-], 1-32 characters
  std::string path;
};

struct JailStartRequest {
  static constexpr const char* kOp = "jail_start";
  using Response = JailResponse;
  std::string vm;
  std::string kernel;
  std::string initrd;
  std::vector<JailDrive> drives;
};

// Kills the VM's jailed Firecracker if it still runs and removes its jail
// directory. A VM without a jail is success.
struct JailRemoveRequest {
  static constexpr const char* kOp = "jail_remove";
  using Response = EmptyResponse;
  std::string vm;
};

// Makes `<vm>.vm` answer `address` from the resolver on `bridge` (a bridge
// the helper created; its resolver starts with ensure_bridge). Replaces the
// VM's previous address; idempotent.
struct NameSetRequest {
  static constexpr const char* kOp = "name_set";
  using Response = EmptyResponse;
  std::string bridge;
  std::string vm;
  std::string address;  // IPv4, no prefix
};

// `<vm>.vm` stops resolving on every bridge. A name that is not there is
// success.
struct NameRemoveRequest {
  static constexpr const char* kOp = "name_remove";
  using Response = EmptyResponse;
  std::string vm;
};

// One published port: connections to host_address:host_port (proto) are
// forwarded to the guest's guest_port. host_address "0.0.0.0" means every
// address of the host.
struct PublishedPort {
  std::string host_address;  // IPv4, no prefix
  uint32_t host_port = 0;    // 1-65535
  std::string proto;         // "tcp" or "udp"
  uint32_t guest_port = 0;   // 1-65535

  bool operator==(const PublishedPort&) const = default;
};

// The most ports one VM may publish.
inline constexpr size_t kMaxPublishedPorts = 64;

// Makes `ports` the VM's whole set of published ports, forwarded (DNAT in
// banger's nftables table) to `address`, a guest address in the subnet of a
// bridge the helper created. Replaces the VM's previous set; idempotent; an
// empty set is ports_clear. A host port another VM publishes is refused
// (busy), naming that VM.
struct PortsSetRequest {
  static constexpr const char* kOp = "ports_set";
  using Response = EmptyResponse;
  std::string vm;
  std::string address;
  std::vector<PublishedPort> ports;
};

// Removes every port the VM publishes. A VM with none is success.
struct PortsClearRequest {
  static constexpr const char* kOp = "ports_clear";
  using Response = EmptyResponse;
  std::string vm;
};

using Request =
    std::variant<PingRequest, EnsureBridgeRequest, CreateTapRequest,
                 OpenTapRequest, AssignTapRequest, DeleteTapRequest,
                 ListTapsRequest, NatEnableRequest, NatDisableRequest,
                 JailStartRequest, JailRemoveRequest, NameSetRequest, NameRemoveRequest,
                 PortsSetRequest, PortsClearRequest>;

// The operation name of a request: "create_tap".
const char* OperationName(const Request& request);

// All operation names, in protocol order (for messages and tests).
std::vector<std::string> OperationNames();

}  // namespace banger::helper
