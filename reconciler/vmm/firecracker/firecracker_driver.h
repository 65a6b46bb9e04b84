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

 private:
  Result<std::string> Binary() const;
  Result<model::VmHandles> LaunchJailed(const LaunchConfig& config);
  Status StopProcess(const model::VmHandles& handles, std::chrono::milliseconds grace);
  // Waits for the API socket, sends the boot requests (paths as
  // Firecracker sees them, from `seen`) and makes the handles.
  Result<model::VmHandles> Configure(const LaunchConfig& config, const LaunchConfig& seen,
                                     VmmProcess& process, const std::string& api_host,
                                     const std::string& channel_host,
                                     const std::string& channel_fc,
                                     const std::string& console_log);

  FirecrackerDriverOptions options_;
};

}  // namespace banger::vmm
