// Taking, restoring and removing snapshots of VMs on this host: the VMM
// (through the VM runtime's drivers), the snapshot files and the VM's
// disks. The state db is the caller's: these return what to record.
//
// Take:    pause -> save state -> copy disks -> resume, in an owned staging
//          dir published with one rename (snapshot_dir.h). The VM is paused
//          only for the save and the copies; it is resumed on every way
//          out, and a killed banger leaves it to SweepAbandoned.
// Restore: check everything that can be checked without touching the VM
//          (names, compatibility, files, the state's digest), make its new
//          disks beside the old ones, stop it, put the disks in place, start
//          it from the state.
#pragma once

#include <chrono>
#include <string>

#include "reconciler/apply/effects.h"
#include "reconciler/disk/disk_file.h"
#include "reconciler/os/exec.h"
#include "reconciler/runtime/local_vm_runtime.h"
#include "reconciler/snapshot/compat.h"
#include "reconciler/snapshot/snapshot_dir.h"
#include "reconciler/store/state_dir.h"

namespace banger::snapshot {

struct TakeReport {
  model::SnapshotRecord record;
  SpaceUsage usage;                       // of the published dir
  std::chrono::milliseconds paused{0};    // pause to resume
  std::chrono::milliseconds total{0};
};

struct RestoreReport {
  std::string boot_id;                    // the guest's after the restore ("" without agent)
  std::chrono::milliseconds total{0};     // request to agent health
};

// A restore's disks, made beside the VM's (not yet in place), and the
// machine to continue.
struct PreparedRestore {
  std::vector<disk::StagedFile> disks;
  runtime::SavedMachine machine;
};

class SnapshotService {
 public:
  SnapshotService(store::StatePaths paths, runtime::LocalVmRuntime& vms,
                  CommandRunner& runner = SystemRunner());

  // Snapshots the running VM `vm` (booted from `inputs`) as `name`. Fails
  // with kAlreadyExists when the name is taken on disk, kFailedPrecondition
  // when the VM does not run. The caller holds the VM's lock.
  Result<TakeReport> Take(const model::VmRecord& vm, const apply::VmInputs& inputs,
                          const std::string& name, apply::StepProgress& progress);

  // The facts of this host a restore of `vm` is checked against.
  Result<RestoreHost> HostFor(const model::VmRecord& vm, const apply::VmInputs& inputs);

  // Returns `vm` to the point `snapshot` saved. Refuses (leaving the VM as
  // it was) a snapshot of another VM, one that does not fit this host or
  // VM, and one whose files are missing, truncated or damaged. After the VM
  // was stopped, a failure leaves it stopped on the snapshot's disks, and
  // the error says so. `disks_replaced` tells whether the VM's disks are the
  // snapshot's now (also on failure). The caller holds the VM's lock.
  Result<RestoreReport> Restore(model::VmRecord& vm, const apply::VmInputs& inputs,
                                const model::SnapshotRecord& snapshot,
                                apply::StepProgress& progress, bool* disks_replaced);

  // Creates the VM `vm` (not recorded yet) from another VM's snapshot:
  // checks as a restore does, its own disks over the snapshot's copies in
  // its VM dir, its own tap and address, the VMM continued from the saved
  // state, then the guest agent gives it its identity (hostname, MAC,
  // address, host keys, machine-id); the clone's own file_sync entries and
  // workspace follow. On failure nothing of the VM is left. The caller
  // holds the VM's lock and the snapshot's.
  Status Clone(model::VmRecord& vm, const apply::VmInputs& inputs,
               const model::SnapshotRecord& snapshot, apply::StepProgress& progress);

  // Deletes a snapshot's files (the caller checked it is unused).
  Status Remove(const model::SnapshotRecord& snapshot);

  // What killed snapshot processes left: VMs still paused by a staging dir
  // whose owner died are resumed (the sweep of staging dirs then removes
  // the dir). Best effort; returns the VMs it resumed.
  std::vector<std::string> ResumeAbandoned();

  // Published snapshot dirs the store does not list (a process killed
  // between the rename and the record): their metadata, to be recorded.
  std::vector<model::SnapshotRecord> Unrecorded(const model::StoreSnapshot& snap);

 private:
  Status CheckStateFile(const model::SnapshotMeta& meta, const std::string& dir);
  // The checks of a restore of `snapshot` as `vm` and the disks it runs on,
  // staged in the VM's dir; nothing of the VM is touched. `what` prefixes
  // errors.
  Result<PreparedRestore> Prepare(const model::VmRecord& vm, const apply::VmInputs& inputs,
                                  const model::SnapshotRecord& snapshot, const std::string& what);

  store::StatePaths paths_;
  runtime::LocalVmRuntime& vms_;
  CommandRunner& runner_;
};

}  // namespace banger::snapshot
