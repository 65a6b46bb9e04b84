// A VM started from another VM's snapshot (SnapshotService::Clone): a
// restore onto a new VM's own disks, tap and address, and then the guest
// agent's re-identification, since the restored memory is the source VM's
// (its hostname, MAC, address, host keys, machine-id and RNG state).
#include <chrono>
#include <cstdio>
#include <future>

#include "reconciler/access/ssh_dir.h"
#include "reconciler/os/fs.h"
#include "reconciler/runtime/undo.h"
#include "reconciler/snapshot/snapshot_service.h"

namespace banger::snapshot {
namespace {

// Disk files a VM dir may hold from a VM of the same name that was
// replaced: a clone's disks are all the snapshot's (its work disk belongs
// with the saved memory and is never kept).
constexpr const char* kReplacedDisks[] = {"rootfs.qcow2", "rootfs.ext4", "work.ext4"};

}  // namespace

Status SnapshotService::Clone(model::VmRecord& vm, const apply::VmInputs& inputs,
                              const model::SnapshotRecord& snapshot,
                              apply::StepProgress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const model::SnapshotMeta& meta = snapshot.meta;
  const std::string name = vm.spec.name;
  const std::string what = "vm " + Quote(name) + ": start from snapshot " + Quote(meta.name);
  if (meta.source_vm == name)
    return FailedPrecondition(what + ": it is a snapshot of this VM (`banger vm restore " + name +
                              " " + meta.name + "` returns a VM to its own snapshot)");
  if (!meta.channel)
    return FailedPrecondition(what + ": its guest had no agent channel, and a clone takes its "
                              "own identity through the guest agent");

  // Handles of a VM that is not recorded yet come from a create killed
  // after its VMM started; that VMM holds the tap and the address.
  BANGER_ASSIGN_OR_RETURN(model::VmLiveness leftover, vms_.Observe(name));
  if (leftover.has_handles) {
    progress.Note("stopping what an interrupted create left running");
    BANGER_RETURN_IF_ERROR(vms_.Stop(vm, progress));
  }
  const std::string dir = paths_.vm_dir(name);
  const bool dir_existed = IsDirectory(dir);
  BANGER_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  runtime::Undo undo;
  if (!dir_existed) undo.Add([dir] { (void)RemoveTree(dir); });
  for (const char* stale : kReplacedDisks) BANGER_RETURN_IF_ERROR(RemoveTree(JoinPath(dir, stale)));

  // An RSA key takes most of a second: made while the disks are made and
  // the state loads. Waited for on every way out (the future's destructor).
  std::shared_future<Result<std::vector<agent::HostKeyPair>>> host_keys =
      std::async(std::launch::async, [name, dir, this] {
        return access::MakeGuestHostKeys(name, dir, runner_);
      }).share();
  BANGER_ASSIGN_OR_RETURN(PreparedRestore prepared, Prepare(vm, inputs, snapshot, what));
  for (auto& disk : prepared.disks) {
    BANGER_RETURN_IF_ERROR(disk.Commit(disk::StagedFile::Replace::kNever));
    undo.Add([path = disk.final_path()] { (void)RemoveTree(path); });
  }
  progress.Note("disks over snapshot " + meta.name);
  prepared.machine.reidentify = true;
  prepared.machine.host_keys = host_keys;
  auto boot_id = vms_.RestoreBoot(vm, inputs, prepared.machine, progress);
  if (!boot_id.ok()) return std::move(boot_id).error().WithContext(what);

  // The clone's own content: its disks hold what the source had synced.
  std::vector<std::string> own;
  if (!inputs.file_syncs.empty()) own.push_back("file_sync");
  if (vm.spec.workspace) own.push_back("workspace");
  if (!own.empty()) {
    Status st = vms_.Update(vm, inputs, own, progress);
    if (!st.ok()) {
      (void)vms_.Stop(vm, progress);
      return std::move(st).error().WithContext(what);
    }
  }
  char took[64];
  snprintf(took, sizeof took, "clone ready in %.2f s",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  progress.Note(took);
  undo.Dismiss();
  return OkStatus();
}

}  // namespace banger::snapshot
