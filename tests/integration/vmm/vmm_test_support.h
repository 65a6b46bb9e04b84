// Helpers shared by the VMM integration tests: a guest kernel, the
// Firecracker API double, and an audit of the processes a test started.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconciler/base/error.h"
#include "reconciler/model/handles.h"
#include "reconciler/vmm/driver.h"

namespace banger::testing {

// Debian's cloud kernel (vmlinuz), fetched once with `apt-get download` and
// unpacked into $BANGER_CACHE_DIR (default /var/cache/banger-test), reused
// by later runs.
Result<std::string> CloudKernel();

// A kernel command line for the test guests: serial console, and the TSC
// frequency given up front. Under TCG on a busy host the guest's TSC
// calibration against the PIT fails and the kernel then stalls before it
// reaches the root-mount panic these tests wait for.
std::string GuestCmdline(const std::string& extra = "");

// The Firecracker API double and the project's Firecracker contract
// (schemas/firecracker-api-contract.json), which is all the double serves.
std::string FirecrackerDouble();
std::string FirecrackerApiContract();

// Makes this test process the subreaper of everything it starts, so detached
// VMMs and loggers that outlive their parents are reparented here and can be
// found. Call before starting anything.
void AdoptDetachedProcesses();

// Processes whose parent is this one and that still run, after reaping the
// ones that ended. Waits up to `settle` for them to go away first.
std::vector<pid_t> LeftoverChildren(
    std::chrono::milliseconds settle = std::chrono::seconds(3));

// Descriptors open in another process, by number.
std::vector<int> OpenFds(pid_t pid);

// Polls until `path` contains `needle` (checking path.1 too) or the timeout.
bool WaitForText(const std::string& path, const std::string& needle,
                 std::chrono::milliseconds timeout);

// Stops a launched VM when a test ends early (a failed REQUIRE), so one
// failure does not leave a VMM running into the next test.
class StopOnExit {
 public:
  StopOnExit(vmm::VmmDriver& driver, const model::VmHandles& handles)
      : driver_(driver), handles_(handles) {}
  ~StopOnExit() { (void)driver_.Shutdown(handles_, std::chrono::milliseconds(0)); }
  StopOnExit(const StopOnExit&) = delete;
  StopOnExit& operator=(const StopOnExit&) = delete;

 private:
  vmm::VmmDriver& driver_;
  model::VmHandles handles_;
};

// A launch of the cloud kernel alone (no disks; it panics at the root
// mount, which is all the QEMU tests need), console in run_dir, with the
// agent's channel device.
vmm::LaunchConfig KernelOnlyGuest(const std::string& name, const std::string& run_dir,
                                  uint64_t memory_bytes = 256ull << 20);

// The requests the Firecracker double logged in `dir`
// (fc_double.requests.jsonl), one JSON object each, in order.
std::vector<nlohmann::json> DoubleRequestLog(const std::string& dir);

// Size of a file, 0 if missing.
size_t FileSize(const std::string& path);

}  // namespace banger::testing
