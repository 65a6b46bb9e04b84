// The files through which `banger apply`, the daemon and `banger status`
// meet in a state dir. Each is replaced atomically and read strictly.
//
//   <state>/daemon/applied.json  the spec files the last apply converged
//                                (absolute paths); the daemon keeps them
//                                converged and re-plans when they change.
//   <state>/daemon/status.json   the running daemon: PID, build, heartbeat,
//                                and per VM its restart count, backoff and
//                                last error. Rewritten every cycle.
//
// A file is the interface (not a socket) so that status is readable while
// the daemon is busy, and survives a daemon crash for inspection.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::daemon {

std::string DaemonDir(const std::string& state_dir);     // <state>/daemon
std::string AppliedPath(const std::string& state_dir);   // .../applied.json
std::string StatusPath(const std::string& state_dir);    // .../status.json

// Records the spec files an apply converged (made absolute by the caller).
Status WriteAppliedSpecs(const std::string& state_dir, const std::vector<std::string>& files);
// Empty when nothing was ever applied in this state dir.
Result<std::vector<std::string>> ReadAppliedSpecs(const std::string& state_dir);

// What the daemon knows of one VM between cycles.
struct VmRepairState {
  int restarts = 0;                // repairs made since the daemon started
  int failures_in_a_row = 0;       // repairs that did not stay up
  int64_t next_attempt_at = 0;     // unix seconds; 0: no backoff pending
  int64_t healthy_since = 0;       // unix seconds the VM was last seen up from
  std::string last_error;          // of the last failed repair or boot
  std::string waiting_for_apply;   // a step the daemon will not take alone
};

struct DaemonStatus {
  pid_t pid = 0;
  uint64_t pid_start_ticks = 0;  // with pid: tells a live daemon from a recycled PID
  std::string build;             // BuildString() of the daemon binary
  int64_t started_at = 0;        // unix seconds
  int64_t heartbeat_at = 0;      // end of the last cycle (unix seconds)
  int interval_seconds = 10;
  std::string last_cycle_error;  // empty when the last cycle converged or had nothing to do
  std::map<std::string, VmRepairState> vms;
};

Status WriteDaemonStatus(const std::string& state_dir, const DaemonStatus& status);
// nullopt when no daemon ever ran for this state dir.
Result<std::optional<DaemonStatus>> ReadDaemonStatus(const std::string& state_dir);

// Whether the status was written by a daemon that is still running and has
// finished a cycle within three intervals of `now`.
bool DaemonAlive(const DaemonStatus& status, int64_t now);

}  // namespace banger::daemon
