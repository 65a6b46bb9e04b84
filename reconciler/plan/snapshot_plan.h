// The planner's part for [[snapshot]] tables and the VMs cloned from them
// (see planner.h for the rules). Pure, like the rest of the planner.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "reconciler/plan/observed.h"
#include "reconciler/plan/plan.h"
#include "specs/desired.h"

namespace banger::plan {

// A step with its changes, handed to the plan builder to add.
struct PlannedStep {
  Step step;
  std::vector<Change> changes;
};

// The action already planned at an address (kNoOp when none).
using ActionLookup = std::function<Action(const std::string& address)>;

// Declared snapshots: a missing one is taken (after its source VM's step,
// when the plan has one); one whose files are gone, or whose vm is another
// VM now, is taken again (replace). A snapshot of that name that `banger vm
// snapshot` took of the same VM stands for it; of another VM, it is an error. A source VM whose snapshot-
// relevant fields or artifacts differ from those recorded at snapshot time
// is reported in plan->drift, without a step: taking it again would change
// what every clone starts from, so that is the user's call (rename it).
// A snapshot whose source VM is stopped cannot be taken: plan->errors.
std::vector<PlannedStep> PlanDeclaredSnapshots(const specs::DesiredState& desired,
                                               const Observed& observed,
                                               const ActionLookup& action_of, Plan* plan);

// Snapshots apply took that no spec declares any more: deleted after the
// VMs restored from them are deleted or replaced; one that a VM the plan
// keeps is restored from is kept, with a warning. Snapshots taken with
// `banger vm snapshot` are never deleted by a plan.
std::vector<PlannedStep> PlanSnapshotDeletions(const specs::DesiredState& desired,
                                               const Observed& observed,
                                               const ActionLookup& action_of, Plan* plan);

// The source VM's changes since `snapshot` was taken that make it stale
// ("memory 1G -> 2G", "image 'base' rebuilt"); empty when it still matches
// `source_now`. `source_record` (may be null) gives the artifacts the source
// runs now.
std::vector<std::string> SnapshotSourceChanges(const ObservedSnapshot& snapshot,
                                               const specs::VmSpec& source_now,
                                               const model::VmRecord* source_record);

}  // namespace banger::plan
