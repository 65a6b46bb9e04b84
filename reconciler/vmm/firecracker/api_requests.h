// The Firecracker API requests that configure and boot a VM, built as pure
// data so tests can compare them with the API description.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconciler/base/error.h"
#include "reconciler/vmm/driver.h"

namespace banger::vmm {

struct ApiRequest {
  std::string method;   // "PUT"
  std::string path;     // "/drives/rootfs"
  nlohmann::json body;  // null: no body

  bool operator==(const ApiRequest&) const = default;
};

// The guest CID of Firecracker's vsock. Firecracker's vsock is hybrid (the
// host side is a unix socket per VM), so the CID only has to be valid
// (>= 3), not unique on the host.
inline constexpr int kFirecrackerGuestCid = 3;

// Maps a host path to the path Firecracker must be given (identity unless
// jailed, where files appear inside the chroot).
using PathMapper = std::function<std::string(const std::string&)>;

// Every pre-boot request in order: machine-config, boot-source, drives (the
// first is the root device), network interfaces ("eth0", ...), vsock (when
// a channel is wanted, at `vsock_uds` as Firecracker sees it). Values the
// API itself checks (vCPU range, memory size) are passed through as given
// so its fault message reaches the user; what the API cannot express
// (qcow2, a tap given only as an fd, ids unusable in a URL) fails here.
Result<std::vector<ApiRequest>> BuildBootRequests(const LaunchConfig& config,
                                                  const std::string& vsock_uds,
                                                  const PathMapper& map_path);

ApiRequest InstanceStartRequest();
ApiRequest SendCtrlAltDelRequest();

// Snapshots. PATCH /vm pauses or resumes the vCPUs; /snapshot/create writes
// a full snapshot of a paused VM (device state and guest memory, paths as
// Firecracker sees them).
ApiRequest PauseVmRequest();
ApiRequest ResumeVmRequest();
ApiRequest CreateSnapshotRequest(const std::string& state_path, const std::string& memory_path);

// The requests that bring a fresh Firecracker from a snapshot to a running
// guest on the disks, taps and vsock socket of `config` (paths mapped as
// Firecracker sees them): /snapshot/load (paused, taps and vsock socket
// overridden), PATCH /drives/{id} for each drive (Firecracker reopens the
// drive paths the snapshot recorded; these point it at this VM's), then
// PATCH /vm Resumed. Fails like BuildBootRequests on what the API cannot
// express.
Result<std::vector<ApiRequest>> BuildRestoreRequests(const LaunchConfig& config,
                                                     const std::string& state_path,
                                                     const std::string& memory_path,
                                                     const std::string& vsock_uds,
                                                     const PathMapper& map_path);

}  // namespace banger::vmm
