#include "reconciler/cli/spec_snapshots.h"

#include "reconciler/apply/vm_inputs.h"
#include "reconciler/os/fs.h"

namespace banger::cli {

Result<FileLock> LockSnapshotFile(const store::StatePaths& paths, const std::string& name,
                                  bool shared) {
  BANGER_RETURN_IF_ERROR(MakeDirs(paths.locks_dir(), 0700));
  const std::string path = JoinPath(paths.locks_dir(), "snapshot-" + name + ".lock");
  return shared ? FileLock::AcquireShared(path) : FileLock::Acquire(path);
}

Result<std::unique_ptr<SpecSnapshots>> SpecSnapshots::Open(const store::StatePaths& paths,
                                                           snapshot::SnapshotService& service) {
  BANGER_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, store::Store::Open(paths.root()));
  return std::unique_ptr<SpecSnapshots>(new SpecSnapshots(paths, service, std::move(store)));
}

Result<model::StoreSnapshot> SpecSnapshots::Load() {
  std::lock_guard<std::mutex> l(mu_);
  return store_->Load();
}

Status SpecSnapshots::Take(const specs::SnapshotSpec& spec, const model::VmRecord& vm,
                           apply::StepProgress& progress) {
  BANGER_RETURN_IF_ERROR(snapshot::CheckSnapshotName(spec.name));
  BANGER_ASSIGN_OR_RETURN(FileLock lock, LockSnapshotFile(paths_, spec.name, /*shared=*/false));
  BANGER_ASSIGN_OR_RETURN(model::StoreSnapshot snap, Load());
  if (snap.snapshots.count(spec.name))
    return Error(Code::kAlreadyExists, "snapshot " + Quote(spec.name) + " exists");
  BANGER_ASSIGN_OR_RETURN(apply::VmInputs inputs, apply::ResolveVmInputs(vm.spec, snap, nullptr));
  BANGER_ASSIGN_OR_RETURN(snapshot::TakeReport report,
                          service_.Take(vm, inputs, spec.name, progress));
  report.record.origin = model::Origin::kSpec;
  // A failure to record a published snapshot is repaired by the next
  // command's sweep (recorded then as taken by `vm snapshot`).
  std::lock_guard<std::mutex> l(mu_);
  return store_->PutSnapshot(report.record);
}

Status SpecSnapshots::Remove(const std::string& name) {
  BANGER_ASSIGN_OR_RETURN(FileLock lock, LockSnapshotFile(paths_, name, /*shared=*/false));
  BANGER_ASSIGN_OR_RETURN(model::StoreSnapshot snap, Load());
  auto it = snap.snapshots.find(name);
  if (it == snap.snapshots.end()) return OkStatus();
  {
    std::lock_guard<std::mutex> l(mu_);
    BANGER_RETURN_IF_ERROR(store_->DeleteSnapshot(name));
  }
  return service_.Remove(it->second);
}

Status SpecSnapshots::Clone(model::VmRecord& record, const apply::VmInputs& inputs,
                            apply::StepProgress& progress) {
  const std::string& from = record.spec.from_snapshot;
  BANGER_ASSIGN_OR_RETURN(FileLock lock, LockSnapshotFile(paths_, from, /*shared=*/true));
  BANGER_ASSIGN_OR_RETURN(model::StoreSnapshot snap, Load());
  auto it = snap.snapshots.find(from);
  if (it == snap.snapshots.end())
    return FailedPrecondition("vm " + Quote(record.spec.name) + ": snapshot " + Quote(from) +
                              " has not been taken (apply takes it before its clones)");
  return service_.Clone(record, inputs, it->second, progress);
}

}  // namespace banger::cli
