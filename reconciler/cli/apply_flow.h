// One apply cycle, shared by `apply`, `apply PLAN` and `apply --watch`:
// lock the state dir, plan (or check a saved plan), confirm destructive
// steps, execute with progress, report.
#pragma once

#include "reconciler/cli/cli.h"
#include "reconciler/cli/session.h"
#include "reconciler/os/file_lock.h"
#include "reconciler/plan/plan.h"

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "reconciler/apply/executor.h"

namespace banger::cli {

struct ApplyOptions {
  bool yes = false;            // do not ask before deletes/replaces
  bool refresh_images = false;
  int parallelism = 4;
  std::vector<std::string> targets;  // --target: only these and their dependencies
  // The -f paths, absolute: recorded for the daemon once the plan is taken.
  std::vector<std::string> record_files;
  // How long to wait for the daemon to finish its cycle when it holds the
  // state dir lock (a second CLI apply is refused at once).
  std::chrono::seconds daemon_lock_wait{60};
};

// The state dir's apply lock, without waiting: a second apply (or image
// pull) fails at once naming the holder.
Result<FileLock> LockStateDir(const store::StatePaths& paths);

// The same, except that a lock held by the banger daemon (mid-cycle) is
// waited for up to `daemon_wait`, saying so on the console, before failing
// with a message that names the daemon.
Result<FileLock> LockStateDirWaitingForDaemon(Console& console, const store::StatePaths& paths,
                                              std::chrono::seconds daemon_wait);

// Line-per-event progress on a console; serialised because steps run in
// parallel.
class ProgressPrinter : public apply::ApplyEvents {
 public:
  explicit ProgressPrinter(Console& console) : console_(console) {}
  void StepStarted(const plan::Step& step) override;
  void StepNote(const plan::Step& step, std::string_view note) override;
  void StepFinished(const plan::Step& step, const apply::StepOutcome& o) override;

 private:
  void Line(const std::string& s);
  Console& console_;
  std::mutex mu_;
};

// Executes the plan's steps against the session's store and runtime
// (locks held by the caller), reporting to `events`, then refreshes the ssh
// client config (a failure there is a warning on the console).
apply::ApplyResult RunPlanSteps(Console& console, Session& session, const plan::Plan& p,
                                const specs::DesiredState& desired, int parallelism,
                                apply::ApplyEvents& events);

// Plans the session's specs and applies. Returns the exit code.
int ApplySpecs(Console& console, Session& session, const ApplyOptions& options);

// Applies a saved plan file after checking it is not stale.
int ApplySavedPlan(Console& console, const std::string& path, const ApplyOptions& options);

}  // namespace banger::cli
