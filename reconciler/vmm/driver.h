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
  // Starts the VMM detached and returns its handles (pid, sockets, accel).
  // On failure nothing is left running.
  virtual Result<model::VmHandles> Launch(const LaunchConfig& config) = 0;
  // Asks the guest to power off, waits up to `grace`, then kills. A VMM that
  // is already gone is success.
  virtual Status Shutdown(const model::VmHandles& handles,
                          std::chrono::milliseconds grace) = 0;
};

// Fills probe.binary and probe.version (first line of `<binary> --version`),
// or probe.detail when either fails; returns whether both worked.
bool ProbeBinaryVersion(const Result<std::string>& binary, CommandRunner& runner,
                        DriverProbe& probe);

}  // namespace banger::vmm
