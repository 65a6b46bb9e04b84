// Watching and stopping detached processes (VMMs, jailers) by PID.
//
// A detached VMM is not our child, so it cannot be waited for. Every helper
// here identifies the process by (pid, start ticks) so that a recycled PID is
// never signalled, and treats a zombie as gone (it no longer runs anything).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "reconciler/base/error.h"

namespace banger {

// Whether the process is alive and is still the same process (start time
// matches), not a recycled PID. start_ticks 0 matches any process.
bool ProcessAlive(pid_t pid, uint64_t start_ticks);
// The start time of a process from /proc/<pid>/stat (0 if gone).
uint64_t ProcessStartTicks(pid_t pid);

// Blocks until the process is gone (exited, zombie, or the PID now belongs to
// another process) or `timeout` passes. Returns whether it is gone.
bool WaitProcessGone(pid_t pid, uint64_t start_ticks,
                     std::chrono::milliseconds timeout);

// Sends `signal` to the process if it is still the one identified by
// (pid, start_ticks). A process that is already gone is success.
Status SignalProcess(pid_t pid, uint64_t start_ticks, int signal);

// SIGKILL, then waits up to `timeout` for the process to disappear.
Status KillProcess(pid_t pid, uint64_t start_ticks,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The last `max_bytes` of a text file, trimmed; empty if it cannot be read.
std::string ReadFileTail(const std::string& path, size_t max_bytes);

}  // namespace banger
