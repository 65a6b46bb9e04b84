// Starting processes that outlive the CLI.
//
// A VMM (and its console logger) must keep running after `banger apply`
// returns, must not be killed by the terminal's signals, and must not hold
// any of the CLI's descriptors (a lock file, the state database). Both
// functions here double-fork: the intermediate child calls setsid() and
// exits, so the process ends up in its own session, reparented to init (or
// the nearest subreaper), with stdin on /dev/null.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "reconciler/base/error.h"

namespace banger {

struct DetachedCommand {
  std::vector<std::string> argv;  // argv[0] must be an absolute path
  std::vector<std::string> env;   // the complete environment
  int stdout_fd = -1;             // -1: /dev/null
  int stderr_fd = -1;             // -1: /dev/null
  // Descriptors the program inherits under the same numbers (a tap fd named
  // on its command line). Every other descriptor is closed on exec.
  std::vector<int> inherit_fds;
};

// Starts the program detached. Returns its PID once execve succeeded; an
// exec failure (missing binary, no permission) is returned as an error and
// leaves nothing running.
Result<pid_t> SpawnDetached(const DetachedCommand& command);

// Runs body(arg) in a detached child that never execs. The child keeps only
// the descriptors in `keep_fds` (same numbers) plus 0-2 on /dev/null; every
// other descriptor is closed before body runs. body must only make
// async-signal-safe calls (the parent may have had threads) and must end
// with _exit(). Returns the child's PID.
Result<pid_t> ForkDetached(const std::vector<int>& keep_fds, void (*body)(void*),
                           void* arg);

}  // namespace banger
