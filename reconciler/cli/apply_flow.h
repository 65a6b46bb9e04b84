// One apply cycle, shared by `apply`, `apply PLAN` and `apply --watch`:
// lock the state dir, plan (or check a saved plan), confirm destructive
// steps, execute with progress, report.
#pragma once

#include "reconciler/cli/cli.h"
#include "reconciler/cli/session.h"
#include "reconciler/os/file_lock.h"
#include "reconciler/plan/plan.h"

#include <string>
#include <vector>

namespace banger::cli {

struct ApplyOptions {
  bool yes = false;            // do not ask before deletes/replaces
  bool refresh_images = false;
  int parallelism = 4;
  std::vector<std::string> targets;  // --target: only these and their dependencies
};

// The state dir's apply lock, without waiting: a second apply (or image
// pull) fails at once naming the holder.
Result<FileLock> LockStateDir(const store::StatePaths& paths);

// Plans the session's specs and applies. Returns the exit code.
int ApplySpecs(Console& console, Session& session, const ApplyOptions& options);

// Applies a saved plan file after checking it is not stale.
int ApplySavedPlan(Console& console, const std::string& path, const ApplyOptions& options);

}  // namespace banger::cli
