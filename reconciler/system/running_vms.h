// Which VMs of a state dir have a live VMM, read from their handles files
// and checked against /proc (PID and start time), without opening the
// store: uninstall and status must work while the daemon holds it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::system {

struct RunningVm {
  std::string name;
  pid_t pid = 0;
  uint64_t pid_start_ticks = 0;
};

// Empty when the state dir or its vms/ dir does not exist. A handles file
// that cannot be read is an error naming it: a purge must not guess.
Result<std::vector<RunningVm>> RunningVms(const std::string& state_dir);

// "web, db" for messages.
std::string VmNames(const std::vector<RunningVm>& vms);

}  // namespace banger::system
