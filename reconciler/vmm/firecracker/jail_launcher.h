// Starting Firecracker under its jailer.
//
// The jailer has to start as root, so the driver cannot run it: a
// JailLauncher (the root helper's jail_start/jail_remove, or a fake in
// tests) does. The launcher hard-links the kernel, initrd and drives into
// the jail under the names in helper/protocol/protocol.h (kJailKernel,
// kJailInitrd, JailDriveName), starts the jailer with `console_fd` as
// Firecracker's stdout and stderr, and returns the PID and the jail root as
// the host sees it. Inside the jail Firecracker sees those files and its
// API socket (kJailApiSocket) directly below "/".
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::vmm {

struct JailLaunch {
  std::string vm;
  std::string kernel;
  std::string initrd;  // may be empty
  std::vector<std::pair<std::string, std::string>> drives;  // {id, host path}
  int console_fd = -1;
};

struct JailedProcess {
  pid_t pid = 0;
  std::string root;  // host path of the jail's "/"
};

class JailLauncher {
 public:
  virtual ~JailLauncher() = default;
  virtual Result<JailedProcess> Start(const JailLaunch& launch) = 0;
  // Kills the VM's jailed Firecracker if it still runs and removes the
  // jail; a VM without one is success.
  virtual Status Remove(const std::string& vm) = 0;
};

}  // namespace banger::vmm
