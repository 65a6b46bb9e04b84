// How one plan step is carried out for each kind of resource, and what is
// recorded when it converges. Used by the Executor, one call per step.
#pragma once

#include <mutex>

#include "reconciler/apply/executor.h"

namespace banger::apply {

// The executor's working copy of the records, shared between worker threads.
class LiveRecords {
 public:
  explicit LiveRecords(model::StoreSnapshot snapshot) : snap_(std::move(snapshot)) {}
  model::StoreSnapshot Copy() const {
    std::lock_guard<std::mutex> l(mu_);
    return snap_;
  }
  template <typename Fn>
  void Mutate(Fn&& fn) {
    std::lock_guard<std::mutex> l(mu_);
    fn(snap_);
  }

 private:
  mutable std::mutex mu_;
  model::StoreSnapshot snap_;
};

class StepRunner {
 public:
  StepRunner(const ExecutorDeps& deps, const specs::DesiredState& desired,
             LiveRecords& records)
      : deps_(deps), desired_(desired), records_(records) {}

  Status Run(const plan::Step& step, StepProgress& progress);

 private:
  Status RunSettings(const plan::Step& step);
  Status RunKernel(const plan::Step& step, StepProgress& progress);
  Status RunImage(const plan::Step& step, StepProgress& progress);
  Status RunFileSync(const plan::Step& step);
  Status RunVm(const plan::Step& step, StepProgress& progress);
  Status RunSnapshot(const plan::Step& step, StepProgress& progress);
  Status CreateVm(const specs::VmSpec& spec, const model::VmRecord* previous,
                  StepProgress& progress);
  Result<VmInputs> ResolveInputs(const specs::VmSpec& spec) const;
  // Kernels are content-addressed: two names may share one directory.
  bool KernelDigestShared(const std::string& digest, const std::string& except_name) const;

  const ExecutorDeps& deps_;
  const specs::DesiredState& desired_;
  LiveRecords& records_;
};

}  // namespace banger::apply
