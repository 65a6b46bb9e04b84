// The snapshot flows behind `banger vm snapshot|restore` and `banger
// snapshot rm`: the locks, the store records and the SnapshotService calls,
// so the verb files only parse and render.
//
// Locks: the VM's lock (as every imperative vm verb), then
// <state>/locks/snapshot-<name>.lock (spec_snapshots.h): exclusive to take
// or remove, shared to restore, so a snapshot is never removed while a VM
// is being restored from it or taken under the same name twice.
#pragma once

#include <string>
#include <vector>

#include "reconciler/cli/session.h"
#include "reconciler/snapshot/snapshot_service.h"

namespace banger::cli {

Result<snapshot::TakeReport> TakeSnapshot(Session& session, const std::string& vm,
                                          const std::string& name, apply::StepProgress& progress);

Result<snapshot::RestoreReport> RestoreSnapshot(Session& session, const std::string& vm,
                                                const std::string& name,
                                                apply::StepProgress& progress);

// Refused while a VM runs on disks restored from it, and for a snapshot a
// spec declares (apply removes it once no spec does).
Status RemoveSnapshot(Session& session, const std::string& name);

// The default name of a snapshot of `vm` taken at `unix_time`:
// "<vm>-YYMMDD-HHMMSS" (UTC); kInvalidArgument when that is too long.
Result<std::string> DefaultSnapshotName(const std::string& vm, int64_t unix_time);

// The VMs running on disks restored from `name`.
std::vector<std::string> VmsRestoredFrom(const model::StoreSnapshot& snap, const std::string& name);

// After the session opened: VMs a killed snapshot left paused are resumed,
// dead snapshot staging dirs removed, snapshots published but not recorded
// are recorded. Best effort, like the other leftover sweeps.
void SweepSnapshotLeftovers(Session& session);

}  // namespace banger::cli
