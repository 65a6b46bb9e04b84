// The QEMU microvm driver.
//
// Launch starts qemu-system-x86_64 detached with the console through the
// capped logger and QMP on <run_dir>/qmp.sock, and returns only once QMP
// answers. KVM is used when it accepts a guest (probed once per process),
// else TCG; a KVM launch that dies before QMP answers is retried under TCG
// unless BANGER_ACCEL forced the choice. Shutdown presses the ACPI power
// button (microvm with acpi=on has one), waits, then kills by PID.
#pragma once

#include <chrono>
#include <string>

#include "reconciler/os/exec.h"
#include "reconciler/vmm/driver.h"
#include "reconciler/vmm/qemu/accel_probe.h"
#include "reconciler/vmm/qemu/qemu_argv.h"

namespace banger::vmm {

struct QemuDriverOptions {
  std::string binary;        // empty: qemu-system-x86_64 from PATH
  std::string forced_accel;  // "", "kvm" or "tcg"
  std::chrono::milliseconds ready_timeout{std::chrono::seconds(60)};
  CommandRunner* runner = nullptr;  // for probes; null: SystemRunner()
  // Where kernel boot probes are remembered across processes (see
  // ChooseAccel); empty: only for the life of the process.
  std::string probe_cache_dir;

  // binary from $BANGER_QEMU, forced_accel from $BANGER_ACCEL, the probe
  // cache under banger's cache dir.
  static QemuDriverOptions FromEnvironment();
};

class QemuDriver : public VmmDriver {
 public:
  explicit QemuDriver(QemuDriverOptions options = QemuDriverOptions::FromEnvironment());

  std::string_view name() const override { return "qemu"; }
  DriverProbe Probe() override;
  Result<model::VmHandles> Launch(const LaunchConfig& config) override;
  Status Shutdown(const model::VmHandles& handles, std::chrono::milliseconds grace) override;

 private:
  CommandRunner& runner() { return options_.runner ? *options_.runner : SystemRunner(); }
  Result<std::string> Binary() const;
  // One start with a fixed accelerator; on success the process is released.
  Result<model::VmHandles> LaunchWith(const LaunchConfig& config, const QemuHostPlan& plan);

  QemuDriverOptions options_;
};

// Whether this host offers vhost-vsock to QEMU (/dev/vhost-vsock opens).
bool HostHasVhostVsock();

}  // namespace banger::vmm
