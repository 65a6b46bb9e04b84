// The run order of a plan's steps.
#pragma once

#include <vector>

#include "reconciler/plan/plan.h"

namespace banger::plan {

// Sorts steps into run order: by phase (creates and changes by kind:
// settings, kernels, images, file_syncs, VMs, snapshots; then deletions,
// users before what they use), then by name; then moves each step after the
// steps of this list it depends on (a clone after its snapshot, a snapshot
// after its source VM), keeping that order otherwise. Dependencies on
// addresses not in the list are ignored; a cycle keeps the phase order.
void OrderSteps(std::vector<Step>* steps);

}  // namespace banger::plan
