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
#include <functional>
#include <string>
#include <vector>

#include "reconciler/os/exec.h"
#include "reconciler/vmm/driver.h"
#include "reconciler/vmm/qemu/accel_probe.h"
#include "reconciler/vmm/qemu/qemu_argv.h"
#include "reconciler/vmm/vmm_process.h"

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
  Result<std::string> LaunchAccel(const std::string& kernel) override;
  Result<model::VmHandles> Launch(const LaunchConfig& config) override;
  Status Shutdown(const model::VmHandles& handles, std::chrono::milliseconds grace) override;

  // Snapshots (qemu_snapshot.cc): QMP stop/cont; the state is one migration
  // stream written to a file banger opened and passed over QMP (getfd +
  // migrate fd:), read back by a QEMU started with -incoming defer from an
  // inherited descriptor (migrate-incoming fd:N). No shell is involved.
  std::string MachineType() const override { return kQemuMachine; }
  Status Pause(const model::VmHandles& handles) override;
  Status Resume(const model::VmHandles& handles) override;
  Result<SavedState> SaveState(const model::VmHandles& handles, const SnapshotFiles& files,
                               std::chrono::milliseconds timeout) override;
  Result<model::VmHandles> Restore(const LaunchConfig& config, const SnapshotFiles& files,
                                   std::chrono::milliseconds timeout) override;

 private:
  // Runs once QMP answers, before the process is released; a failure kills
  // the VMM.
  using AfterStart = std::function<Status(VmmProcess&, const QemuHostPlan&)>;
  CommandRunner& runner() { return options_.runner ? *options_.runner : SystemRunner(); }
  Result<std::string> Binary() const;
  // One start with a fixed accelerator; on success the process is released.
  Result<model::VmHandles> LaunchWith(const LaunchConfig& config, const QemuHostPlan& plan,
                                      const std::vector<int>& extra_fds = {},
                                      const AfterStart& after_start = nullptr);
  // The plan of a launch (binary, accelerator, sockets), before any start.
  Result<QemuHostPlan> PlanLaunch(const LaunchConfig& config, bool* accel_forced);

  QemuDriverOptions options_;
};

// Whether this host offers vhost-vsock to QEMU (/dev/vhost-vsock opens).
bool HostHasVhostVsock();

}  // namespace banger::vmm
