// Cross-object checks of snapshots and clones (see snapshot_rules.cc).
#pragma once

#include "specs/loader.h"

namespace banger::specs {

// Checks that every [[snapshot]] names a declared VM and every
// vm.from_snapshot a declared snapshot of another VM, with no cycle through
// snapshots; fills in each clone's image, kernel, vcpus, memory and disk
// from its source VM, reporting a written value that differs. Appends to
// outcome->errors (unsorted).
void CheckSnapshots(ParseOutcome* outcome);

}  // namespace banger::specs
