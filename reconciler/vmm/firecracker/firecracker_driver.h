// The Firecracker driver.
//
// Launch starts `firecracker --api-sock <run_dir>/firecracker.sock` detached
// (or the jailer around it, when configured), waits for the API socket,
// sends the pre-boot configuration (api_requests.h) and InstanceStart. A
// request the API rejects fails the launch with Firecracker's fault message
// and the process is killed. Shutdown sends SendCtrlAltDel, waits, then
// kills by PID. Firecracker has no software emulation: it needs /dev/kvm.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "reconciler/os/exec.h"
#include "reconciler/vmm/driver.h"
#include "reconciler/vmm/firecracker/api_requests.h"
#include "reconciler/vmm/firecracker/jailer.h"

namespace banger::vmm {

struct FirecrackerDriverOptions {
  std::string binary;  // empty: firecracker from PATH
  std::optional<JailerConfig> jailer;
  std::chrono::milliseconds ready_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
  CommandRunner* runner = nullptr;  // for --version; null: SystemRunner()

  // binary from $BANGER_FIRECRACKER.
  static FirecrackerDriverOptions FromEnvironment();
};

// The command line for a launch: firecracker's own, wrapped by the jailer
// when one is configured. `api_socket` is as Firecracker sees it.
Result<std::vector<std::string>> BuildFirecrackerArgv(const FirecrackerDriverOptions& options,
                                                      const std::string& firecracker_binary,
                                                      const std::string& vm_name,
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

  FirecrackerDriverOptions options_;
};

}  // namespace banger::vmm
