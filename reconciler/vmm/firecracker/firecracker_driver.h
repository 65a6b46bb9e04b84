// The Firecracker driver.
//
// Launch starts `firecracker --api-sock <run_dir>/firecracker.sock` detached
// (or, for a config with `jailed`, has the JailLauncher start it under the
// jailer, with the API socket inside the jail), waits for the API socket,
// sends the pre-boot configuration (api_requests.h) and InstanceStart. A
// request the API rejects fails the launch with Firecracker's fault message
// and the process is killed. Shutdown sends SendCtrlAltDel, waits, then
// kills by PID. Firecracker has no software emulation: it needs /dev/kvm.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "reconciler/os/exec.h"
#include "reconciler/vmm/driver.h"
#include "reconciler/vmm/firecracker/api_requests.h"
#include "reconciler/vmm/vmm_process.h"
#include "reconciler/vmm/firecracker/jail_launcher.h"

namespace banger::vmm {

struct FirecrackerDriverOptions {
  std::string binary;  // empty: firecracker from PATH
  std::shared_ptr<JailLauncher> jail_launcher;  // needed for jailed launches
  std::chrono::milliseconds ready_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
  CommandRunner* runner = nullptr;  // for --version; null: SystemRunner()

  // binary from $BANGER_FIRECRACKER.
  static FirecrackerDriverOptions FromEnvironment();
};

// The command line of an unjailed launch.
std::vector<std::string> BuildFirecrackerArgv(const std::string& firecracker_binary,
                                              const std::string& api_socket);

class FirecrackerDriver : public VmmDriver {
 public:
  explicit FirecrackerDriver(
      FirecrackerDriverOptions options = FirecrackerDriverOptions::FromEnvironment());

  std::string_view name() const override { return "firecracker"; }
  DriverProbe Probe() override;
  Result<model::VmHandles> Launch(const LaunchConfig& config) override;
  Status Shutdown(const model::VmHandles& handles, std::chrono::milliseconds grace) override;

  // Snapshots (firecracker_snapshot.cc): PATCH /vm, PUT /snapshot/create,
  // and a fresh process given PUT /snapshot/load. VMs under the jailer are
  // refused: their files live inside the jail, which is the root helper's.
  std::string MachineType() const override { return "firecracker"; }
  Status Pause(const model::VmHandles& handles) override;
  Status Resume(const model::VmHandles& handles) override;
  Result<SavedState> SaveState(const model::VmHandles& handles, const SnapshotFiles& files,
                               std::chrono::milliseconds timeout) override;
  Result<model::VmHandles> Restore(const LaunchConfig& config, const SnapshotFiles& files,
                                   std::chrono::milliseconds timeout) override;

 private:
  // The API requests of a start, given the vsock socket path Firecracker
  // is told.
  using RequestBuilder = std::function<Result<std::vector<ApiRequest>>(const std::string&)>;

  Result<std::string> Binary() const;
  Result<model::VmHandles> LaunchUnjailed(const LaunchConfig& config, const RequestBuilder& build,
                                          std::chrono::milliseconds request_timeout);
  Result<model::VmHandles> LaunchJailed(const LaunchConfig& config);
  Status StopProcess(const model::VmHandles& handles, std::chrono::milliseconds grace);
  Status SendVmState(const model::VmHandles& handles, const ApiRequest& request,
                     const std::string& what);
  // Waits for the API socket, sends `requests` (paths as Firecracker sees
  // them) and makes the handles.
  Result<model::VmHandles> Configure(const LaunchConfig& config, VmmProcess& process,
                                     const std::string& api_host,
                                     const std::string& channel_host,
                                     const std::vector<ApiRequest>& requests,
                                     const std::string& console_log,
                                     std::chrono::milliseconds request_timeout);

  FirecrackerDriverOptions options_;
};

}  // namespace banger::vmm
