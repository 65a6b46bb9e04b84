// The executor: runs a plan's steps through the effect interfaces.
//
// Steps run as soon as every step they depend on has converged, up to
// `parallelism` at a time. A failed step skips the steps that depend on it;
// independent steps go on. After each converged step the executor records
// the result (StateRecorder), so a later apply resumes where this one
// stopped and never redoes finished work.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "reconciler/apply/effects.h"
#include "reconciler/os/file_lock.h"
#include "reconciler/plan/plan.h"
#include "specs/desired.h"

namespace banger::apply {

struct StepOutcome {
  enum class State { kDone, kFailed, kSkipped };
  std::string address;
  State state = State::kDone;
  std::optional<Error> error;   // kFailed
  std::string skipped_because;  // kSkipped: the failed dependency
  std::chrono::milliseconds elapsed{0};
};

// Progress of an apply, for the CLI to render. Calls may come from several
// threads at once; implementations serialise their output.
class ApplyEvents {
 public:
  virtual ~ApplyEvents() = default;
  virtual void StepStarted(const plan::Step& step) = 0;
  virtual void StepNote(const plan::Step& step, std::string_view note) = 0;
  virtual void StepFinished(const plan::Step& step, const StepOutcome& outcome) = 0;
};

struct ApplyResult {
  std::vector<StepOutcome> outcomes;  // in plan order
  int done = 0, failed = 0, skipped = 0;
  bool ok() const { return failed == 0 && skipped == 0; }
};

struct ExecutorDeps {
  KernelStore* kernels = nullptr;
  ImageStore* images = nullptr;
  VmRuntime* vms = nullptr;
  StateRecorder* recorder = nullptr;
  SnapshotStore* snapshots = nullptr;
  ApplyEvents* events = nullptr;  // may be null
  // Takes the per-VM lock shared with the imperative verbs.
  std::function<Result<FileLock>(const std::string& vm)> lock_vm;
};

class Executor {
 public:
  Executor(ExecutorDeps deps, int parallelism = 4)
      : deps_(std::move(deps)), parallelism_(parallelism < 1 ? 1 : parallelism) {}

  // `records` is what the store held when the plan was made; the executor
  // updates its copy as steps converge (later steps see new kernels/images).
  ApplyResult Run(const plan::Plan& plan, const specs::DesiredState& desired,
                  model::StoreSnapshot records);

 private:
  ExecutorDeps deps_;
  int parallelism_;
};

}  // namespace banger::apply
