#include "reconciler/cli/snapshot_ops.h"

#include <ctime>

#include "reconciler/apply/vm_inputs.h"
#include "reconciler/cli/spec_snapshots.h"
#include "reconciler/os/file_lock.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"

namespace banger::cli {
namespace {

Result<FileLock> LockVm(Session& s, const std::string& vm) {
  BANGER_RETURN_IF_ERROR(MakeDirs(s.paths.locks_dir(), 0700));
  return FileLock::Acquire(s.paths.vm_lock(vm));
}

Result<snapshot::SnapshotService*> Service(Session& s) {
  if (!s.runtime.snapshots) return Internal("this banger has no snapshot service");
  return s.runtime.snapshots.get();
}

}  // namespace

Result<std::string> DefaultSnapshotName(const std::string& vm, int64_t unix_time) {
  time_t t = static_cast<time_t>(unix_time);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%y%m%d-%H%M%S", &tm);
  std::string name = vm + "-" + stamp;
  if (name.size() > 32)
    return InvalidArgument("vm name " + Quote(vm) + " is too long for a default snapshot name; "
                           "name it with --as");
  return name;
}

std::vector<std::string> VmsRestoredFrom(const model::StoreSnapshot& snap, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& [vm, from] : snap.restored_from)
    if (from == name) out.push_back(vm);
  return out;
}

Result<snapshot::TakeReport> TakeSnapshot(Session& s, const std::string& vm,
                                          const std::string& name, apply::StepProgress& progress) {
  BANGER_ASSIGN_OR_RETURN(snapshot::SnapshotService * service, Service(s));
  BANGER_RETURN_IF_ERROR(snapshot::CheckSnapshotName(name));
  BANGER_ASSIGN_OR_RETURN(FileLock vm_lock, LockVm(s, vm));
  BANGER_ASSIGN_OR_RETURN(FileLock snap_lock, LockSnapshotFile(s.paths, name, /*shared=*/false));
  BANGER_ASSIGN_OR_RETURN(model::StoreSnapshot snap, s.store->Load());
  auto it = snap.vms.find(vm);
  if (it == snap.vms.end()) return NotFoundInState(s, "vm", vm);
  if (snap.snapshots.count(name)) return Error(Code::kAlreadyExists, "snapshot " + Quote(name) + " exists");
  BANGER_ASSIGN_OR_RETURN(apply::VmInputs inputs, apply::ResolveVmInputs(it->second.spec, snap, nullptr));
  BANGER_ASSIGN_OR_RETURN(snapshot::TakeReport report,
                          service->Take(it->second, inputs, name, progress));
  // Published; a failure to record it here is repaired by the next
  // command's sweep, which records published snapshots the store lacks.
  BANGER_RETURN_IF_ERROR(s.store->PutSnapshot(report.record));
  return report;
}

Result<snapshot::RestoreReport> RestoreSnapshot(Session& s, const std::string& vm,
                                                const std::string& name,
                                                apply::StepProgress& progress) {
  BANGER_ASSIGN_OR_RETURN(snapshot::SnapshotService * service, Service(s));
  BANGER_ASSIGN_OR_RETURN(FileLock vm_lock, LockVm(s, vm));
  BANGER_ASSIGN_OR_RETURN(FileLock snap_lock, LockSnapshotFile(s.paths, name, /*shared=*/true));
  BANGER_ASSIGN_OR_RETURN(model::StoreSnapshot snap, s.store->Load());
  auto it = snap.vms.find(vm);
  if (it == snap.vms.end()) return NotFoundInState(s, "vm", vm);
  auto sit = snap.snapshots.find(name);
  if (sit == snap.snapshots.end()) return NotFoundInState(s, "snapshot", name);
  model::VmRecord rec = it->second;
  BANGER_ASSIGN_OR_RETURN(apply::VmInputs inputs, apply::ResolveVmInputs(rec.spec, snap, nullptr));
  bool disks_replaced = false;
  auto report = service->Restore(rec, inputs, sit->second, progress, &disks_replaced);
  if (disks_replaced) {
    // Its disks are over the snapshot's files from now on, whether or not
    // it came up; a VM left stopped stays stopped.
    BANGER_RETURN_IF_ERROR(s.store->SetRestoredFrom(vm, name));
    rec.power = report.ok() ? model::PowerIntent::kRunning : model::PowerIntent::kStopped;
    BANGER_RETURN_IF_ERROR(s.store->PutVm(rec));
  }
  return report;
}

Status RemoveSnapshot(Session& s, const std::string& name) {
  BANGER_ASSIGN_OR_RETURN(snapshot::SnapshotService * service, Service(s));
  BANGER_ASSIGN_OR_RETURN(FileLock snap_lock, LockSnapshotFile(s.paths, name, /*shared=*/false));
  BANGER_ASSIGN_OR_RETURN(model::StoreSnapshot snap, s.store->Load());
  auto it = snap.snapshots.find(name);
  if (it == snap.snapshots.end()) return NotFoundInState(s, "snapshot", name);
  // In use is said first (by the store, naming the VMs).
  if (it->second.origin == model::Origin::kSpec && VmsRestoredFrom(snap, name).empty())
    return FailedPrecondition("snapshot " + Quote(name) + " is declared by a spec (a [[snapshot]] "
                              "table apply took); remove it from the spec and apply");
  // The store refuses while a VM is restored from it; the record goes
  // first, so a process killed before the files are gone leaves a
  // complete snapshot that the next sweep records again.
  BANGER_RETURN_IF_ERROR(s.store->DeleteSnapshot(name));
  return service->Remove(it->second);
}

void SweepSnapshotLeftovers(Session& s) {
  if (!s.runtime.snapshots) return;
  (void)s.runtime.snapshots->ResumeAbandoned();
  (void)SweepDeadOwners(s.paths.staging_dir(),
                        {snapshot::kStagingPrefix, snapshot::kRemovingPrefix});
  if (!s.snapshot.ok()) return;
  bool recorded = false;
  for (const auto& r : s.runtime.snapshots->Unrecorded(*s.snapshot))
    recorded |= s.store->PutSnapshot(r).ok();
  if (recorded) s.snapshot = s.store->Load();
}

}  // namespace banger::cli
