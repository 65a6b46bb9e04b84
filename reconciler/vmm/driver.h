// One interface for the VMMs banger can drive (QEMU microvm, Firecracker).
//
// A driver turns a fully resolved launch description into a detached VMM
// process (it survives the CLI) and returns the handles that identify it.
// Everything above the driver (disks, network, readiness, records) is the
// VM runtime's business.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/model/handles.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/process.h"

namespace banger::vmm {

struct DriveConfig {
  std::string id;          // "rootfs", "work"
  std::string path;
  bool read_only = false;
  std::string format = "raw";  // raw | qcow2 (QEMU only)
};

struct NetConfig {
  std::string tap;         // tap name (Firecracker opens it by name)
  int tap_fd = -1;         // an open tap fd (QEMU inherits it); -1: open by name
  std::string mac;         // 02:xx:xx:xx:xx:xx
};

struct LaunchConfig {
  std::string name;        // VM name
  int vcpus = 1;
  uint64_t memory_bytes = 0;
  std::string kernel;      // bzImage (QEMU) or ELF vmlinux (Firecracker)
  std::string initrd;      // may be empty
  std::string cmdline;
  std::vector<DriveConfig> drives;  // first is the root disk
  std::vector<NetConfig> nets;
  std::string run_dir;     // per-VM directory for sockets and logs
  std::string console_log; // console output, capped at console_log_cap bytes
  uint64_t console_log_cap = 4u << 20;
  bool want_channel = true;  // a host<->guest channel (vsock or virtio-serial)
  bool jailed = false;       // Firecracker through its jailer (settings.jailer)
};

// Where a VM's saved state lives. QEMU writes one stream (device state and
// guest memory, zero pages skipped) to `state` and leaves `memory` unused;
// Firecracker writes its device state to `state` and guest memory to
// `memory`. Both are absolute paths banger chose; the driver creates them.
struct SnapshotFiles {
  std::string state;
  std::string memory;  // Firecracker only ("" under QEMU)
};

// What a save wrote, for reports and metadata.
struct SavedState {
  uint64_t state_bytes = 0;    // apparent size of `state`
  uint64_t memory_bytes = 0;   // apparent size of `memory` (0 under QEMU)
  std::chrono::milliseconds duration{0};
};

// What a driver can do on this host.
struct DriverProbe {
  bool available = false;
  std::string binary;      // resolved path
  std::string version;
  std::string accel;       // "kvm" | "tcg" | "" (unavailable)
  std::string detail;      // why unavailable / how to fix
};

class VmmDriver {
 public:
  virtual ~VmmDriver() = default;
  virtual std::string_view name() const = 0;  // "qemu" | "firecracker"
  // Finds the binary and the accelerator that works (tries KVM, falls back).
  virtual DriverProbe Probe() = 0;
  // The accelerator a launch of `kernel` would use here. Probe's answer
  // may be more hopeful: QEMU launches with KVM only a kernel that boots
  // under it, and saved state loads only under the accelerator it was
  // saved with.
  virtual Result<std::string> LaunchAccel(const std::string& kernel) {
    (void)kernel;
    return Probe().accel;
  }
  // Starts the VMM detached and returns its handles (pid, sockets, accel).
  // On failure nothing is left running.
  virtual Result<model::VmHandles> Launch(const LaunchConfig& config) = 0;
  // Asks the guest to power off, waits up to `grace`, then kills. A VMM that
  // is already gone is success.
  virtual Status Shutdown(const model::VmHandles& handles,
                          std::chrono::milliseconds grace) = 0;

  // --- Snapshots -------------------------------------------------------
  //
  // A snapshot is taken as Pause, SaveState, (the caller copies the disks
  // while nothing writes them), Resume. A restore or a clone is one
  // Restore call with its own disks and tap.

  // The machine model saved state belongs to ("microvm,acpi=on,rtc=on",
  // "firecracker"): state saved under one loads only under the same one.
  virtual std::string MachineType() const = 0;

  // Stops the guest's vCPUs (QEMU: QMP stop; Firecracker: PATCH /vm
  // Paused). The process, its devices and its tap stay. Pausing a paused VM
  // is success.
  virtual Status Pause(const model::VmHandles& handles) = 0;
  // Lets a paused guest run again (QEMU: cont; Firecracker: PATCH /vm
  // Resumed). Resuming a running VM is success.
  virtual Status Resume(const model::VmHandles& handles) = 0;

  // Writes a paused VM's device and memory state to `files`, which must not
  // exist. Returns once the files are complete and flushed (fsync), or
  // fails within `timeout`; on failure no file of `files` is left and the
  // VM is still paused (the caller resumes it). The guest never runs while
  // this writes, so the state is one instant and matches disks copied
  // before Resume.
  virtual Result<SavedState> SaveState(const model::VmHandles& handles,
                                       const SnapshotFiles& files,
                                       std::chrono::milliseconds timeout) = 0;

  // Starts a VMM that continues from saved state instead of booting, and
  // returns its handles with the guest running. `config` describes the
  // machine the state was saved from: the same vcpus, memory, kernel,
  // initrd and cmdline, the same drive ids in the same order and the same
  // number of NICs and channel as at save time. What may differ, so a
  // caller can restore a VM onto copies of its disks or start a clone:
  //   - drive paths (a restore gets its own copy-on-write disks; format
  //     may differ too under QEMU);
  //   - the tap (name or fd) behind each NIC; the guest keeps the MAC it
  //     had when saved (virtio-net state carries it), so a clone changes
  //     its MAC from inside the guest;
  //   - run_dir and console_log (new sockets, a new console).
  // The state files are only read. A state that does not load (truncated,
  // corrupted, saved by another VMM version or machine) fails within
  // `timeout` with the VMM's reason, and nothing is left running.
  virtual Result<model::VmHandles> Restore(const LaunchConfig& config,
                                           const SnapshotFiles& files,
                                           std::chrono::milliseconds timeout) = 0;
};

// Fills probe.binary and probe.version (first line of `<binary> --version`),
// or probe.detail when either fails; returns whether both worked.
bool ProbeBinaryVersion(const Result<std::string>& binary, CommandRunner& runner,
                        DriverProbe& probe);

}  // namespace banger::vmm
