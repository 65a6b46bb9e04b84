// The QEMU microvm command line for a launch, built as a pure function so
// tests can assert it exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/vmm/driver.h"

namespace banger::vmm {

// What the driver decided about the host before building the command line.
struct QemuHostPlan {
  std::string binary;          // absolute path of qemu-system-x86_64
  std::string accel;           // "kvm" | "tcg"
  std::string qmp_socket;      // <run_dir>/qmp.sock
  std::string channel_socket;  // <run_dir>/channel.sock (virtio-serial only)
  uint32_t vsock_cid = 0;      // non-zero: use vhost-vsock with this CID
  // Start paused and wait for saved state (-S -incoming defer) instead of
  // booting the kernel; the driver then sends migrate-incoming.
  bool incoming = false;
};

// The machine model banger runs (QEMU's -M value); saved state records it.
inline constexpr const char* kQemuMachine = "microvm,acpi=on,rtc=on";

// The virtio-serial port name the guest agent looks for.
inline constexpr const char* kAgentPortName = "org.banger.agent";

// Escapes a value for QEMU's option syntax (a ',' is written ',,').
std::string QemuOptValue(const std::string& value);

// Validates `config` and returns the full argv (argv[0] = plan.binary). The
// console goes to QEMU's stdout; a net with tap_fd >= 0 refers to that
// descriptor, which the caller must pass to the child.
Result<std::vector<std::string>> BuildQemuArgv(const LaunchConfig& config,
                                               const QemuHostPlan& plan);

// A CID for vhost-vsock derived from the VM name: stable across restarts and
// in [3, 2^31), where collisions between a host's VMs are unlikely; QEMU
// refuses a CID in use, and the launch error says so.
uint32_t VsockCidForName(const std::string& name);

}  // namespace banger::vmm
