// Transient handles of a running VM: the OS objects that exist only while it
// runs. Written atomically to <state>/vms/<name>/handles.json, never to
// SQLite, and checked against the OS on every run (a PID may have died, a tap
// may be gone).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace banger::model {

struct VmHandles {
  std::string vmm;             // "qemu" | "firecracker"
  pid_t pid = 0;               // VMM process
  uint64_t pid_start_ticks = 0;  // /proc/<pid>/stat starttime: guards PID reuse
  std::string accel;           // "kvm" | "tcg"
  std::string api_socket;      // QMP or Firecracker API socket
  std::string channel_socket;  // host side of the guest channel
  std::string console_log;
  std::string tap;
  std::string mac;
  std::string rootfs;          // per-VM copy-on-write rootfs
  std::string cow_method;      // qcow2 | reflink | copy
  std::string work_disk;
  std::string jail;            // VM whose jail the root helper made ("" unjailed)
};

// What observation found for one VM, derived from handles + the OS.
struct VmLiveness {
  bool has_handles = false;
  VmHandles handles;
  bool process_running = false;
  bool tap_present = false;
  bool rootfs_present = false;
  bool work_disk_present = false;
};

}  // namespace banger::model
