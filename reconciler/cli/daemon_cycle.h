// `banger daemon`: keeps the fleets applied in one state dir converged with
// no CLI running. Each cycle (every settings.daemon_interval seconds, and at
// once when an applied spec file or the applied list changes):
//
//   read <state>/daemon/applied.json -> parse those spec files -> take the
//   state dir lock without waiting (an apply in progress: skip the cycle)
//   -> observe and plan -> daemon::SelectDaemonSteps (hold deletes and
//   replaces, follow restart policies and backoff) -> execute what is left
//   -> log drift, held steps and repairs to the event log -> write
//   <state>/daemon/status.json (the heartbeat `banger status` reads).
//
// The backoff memory lives in the daemon's process; status.json reports
// it. A restarted daemon starts afresh, which only shortens one wait.
#pragma once

#include <map>
#include <set>
#include <string>

#include "reconciler/cli/cli.h"
#include "reconciler/daemon/daemon_files.h"
#include "reconciler/daemon/event_log.h"

namespace banger::cli {

struct DaemonOptions {
  std::string state_dir;  // resolved
  int interval_override = 0;  // seconds; 0: settings.daemon_interval
};

class DaemonCycle {
 public:
  DaemonCycle(Console& console, const DaemonOptions& options);

  // One observe-plan-repair pass. Never fails: problems go to the status
  // and the event log, and the next cycle tries again.
  void Run();

  // The spec files last read (to watch) and the interval to wait.
  const std::vector<std::string>& files() const { return files_; }
  int interval_seconds() const;
  const daemon::DaemonStatus& status() const { return status_; }
  daemon::EventRecorder& log() { return log_; }
  void WriteStatus();

 private:
  void CycleError(const std::string& message);
  // Logs `kind` for (address, key) only when it was not reported last cycle.
  void ReportOnce(const std::string& kind, const std::string& address, const std::string& key,
                  const std::string& message);

  Console& console_;
  DaemonOptions options_;
  daemon::DaemonStatus status_;
  daemon::EventRecorder log_;
  std::vector<std::string> files_;
  int settings_interval_ = 10;
  std::set<std::string> reported_, reporting_;
};

// Runs cycles until SIGINT/SIGTERM. Returns the exit code.
int RunDaemon(Console& console, const DaemonOptions& options);

}  // namespace banger::cli
