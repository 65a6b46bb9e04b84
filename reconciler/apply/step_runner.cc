#include "reconciler/apply/step_runner.h"

#include "reconciler/apply/vm_inputs.h"

#include <ctime>

namespace banger::apply {
namespace {

using plan::Action;
using plan::ResourceKind;

int64_t Now() { return static_cast<int64_t>(time(nullptr)); }

}  // namespace

Status StepRunner::Run(const plan::Step& step, StepProgress& progress) {
  Status st;
  switch (step.kind) {
    case ResourceKind::kSettings: st = RunSettings(step); break;
    case ResourceKind::kKernel: st = RunKernel(step, progress); break;
    case ResourceKind::kImage: st = RunImage(step, progress); break;
    case ResourceKind::kFileSync: st = RunFileSync(step); break;
    case ResourceKind::kVm: st = RunVm(step, progress); break;
    case ResourceKind::kSnapshot: st = RunSnapshot(step, progress); break;
  }
  if (!st.ok()) return std::move(st).error().WithContext(step.address);
  return st;
}

Status StepRunner::RunSettings(const plan::Step&) {
  BANGER_RETURN_IF_ERROR(deps_.recorder->RecordSettings(desired_.settings));
  records_.Mutate([&](model::StoreSnapshot& s) { s.settings = desired_.settings; });
  return OkStatus();
}

bool StepRunner::KernelDigestShared(const std::string& digest,
                                    const std::string& except_name) const {
  model::StoreSnapshot snap = records_.Copy();
  for (const auto& [name, rec] : snap.kernels)
    if (name != except_name && rec.digest == digest) return true;
  return false;
}

Status StepRunner::RunKernel(const plan::Step& step, StepProgress& progress) {
  model::StoreSnapshot snap = records_.Copy();
  auto old = snap.kernels.find(step.name);
  if (step.action == Action::kDelete) {
    if (old == snap.kernels.end()) return OkStatus();
    if (!KernelDigestShared(old->second.digest, step.name))
      BANGER_RETURN_IF_ERROR(deps_.kernels->Remove(old->second));
    BANGER_RETURN_IF_ERROR(deps_.recorder->ForgetKernel(step.name));
    records_.Mutate([&](model::StoreSnapshot& s) { s.kernels.erase(step.name); });
    return OkStatus();
  }
  const specs::KernelSpec* spec = desired_.FindKernel(step.name);
  if (!spec) return Internal("kernel " + Quote(step.name) + " is not in the desired state");
  if (step.action == Action::kUpdate && old != snap.kernels.end()) {
    model::KernelRecord rec = old->second;
    rec.spec = *spec;
    BANGER_RETURN_IF_ERROR(deps_.recorder->RecordKernel(rec));
    records_.Mutate([&](model::StoreSnapshot& s) { s.kernels[step.name] = rec; });
    return OkStatus();
  }
  BANGER_ASSIGN_OR_RETURN(model::KernelRecord rec,
                          deps_.kernels->Build(*spec, desired_.settings, progress));
  rec.spec = *spec;
  rec.origin = model::Origin::kSpec;
  BANGER_RETURN_IF_ERROR(deps_.recorder->RecordKernel(rec));
  records_.Mutate([&](model::StoreSnapshot& s) { s.kernels[step.name] = rec; });
  if (old != snap.kernels.end() && old->second.digest != rec.digest &&
      !KernelDigestShared(old->second.digest, step.name)) {
    BANGER_RETURN_IF_ERROR(deps_.kernels->Remove(old->second));
  }
  return OkStatus();
}

Status StepRunner::RunImage(const plan::Step& step, StepProgress& progress) {
  model::StoreSnapshot snap = records_.Copy();
  auto old = snap.images.find(step.name);
  if (step.action == Action::kDelete) {
    if (old == snap.images.end()) return OkStatus();
    BANGER_RETURN_IF_ERROR(deps_.images->Remove(old->second));
    BANGER_RETURN_IF_ERROR(deps_.recorder->ForgetImage(step.name));
    records_.Mutate([&](model::StoreSnapshot& s) { s.images.erase(step.name); });
    return OkStatus();
  }
  const specs::ImageSpec* spec = desired_.FindImage(step.name);
  if (!spec) return Internal("image " + Quote(step.name) + " is not in the desired state");
  if (step.action == Action::kUpdate && old != snap.images.end()) {
    model::ImageRecord rec = old->second;
    rec.spec = *spec;
    BANGER_RETURN_IF_ERROR(deps_.recorder->RecordImage(rec));
    records_.Mutate([&](model::StoreSnapshot& s) { s.images[step.name] = rec; });
    return OkStatus();
  }
  BANGER_ASSIGN_OR_RETURN(model::ImageRecord rec, deps_.images->Build(*spec, progress));
  rec.spec = *spec;
  rec.origin = model::Origin::kSpec;
  BANGER_RETURN_IF_ERROR(deps_.recorder->RecordImage(rec));
  records_.Mutate([&](model::StoreSnapshot& s) { s.images[step.name] = rec; });
  // VMs still running from the old build keep their disks open; removing the
  // old directory is safe and the plan replaces those VMs.
  if (old != snap.images.end() && old->second.dir != rec.dir)
    BANGER_RETURN_IF_ERROR(deps_.images->Remove(old->second));
  return OkStatus();
}

Status StepRunner::RunFileSync(const plan::Step& step) {
  if (step.action == Action::kDelete) {
    BANGER_RETURN_IF_ERROR(deps_.recorder->ForgetFileSync(step.name));
    records_.Mutate([&](model::StoreSnapshot& s) { s.file_syncs.erase(step.name); });
    return OkStatus();
  }
  const specs::FileSyncSpec* spec = desired_.FindFileSync(step.name);
  if (!spec) return Internal("file_sync " + Quote(step.name) + " is not in the desired state");
  model::FileSyncRecord rec{*spec};
  BANGER_RETURN_IF_ERROR(deps_.recorder->RecordFileSync(rec));
  records_.Mutate([&](model::StoreSnapshot& s) { s.file_syncs[step.name] = rec; });
  return OkStatus();
}

Result<VmInputs> StepRunner::ResolveInputs(const specs::VmSpec& spec) const {
  return ResolveVmInputs(spec, records_.Copy(), &desired_);
}

Status StepRunner::CreateVm(const specs::VmSpec& spec, const model::VmRecord* previous,
                            StepProgress& progress) {
  BANGER_ASSIGN_OR_RETURN(VmInputs inputs, ResolveInputs(spec));
  model::VmRecord rec;
  rec.spec = spec;
  rec.origin = model::Origin::kSpec;
  rec.power = model::PowerIntent::kRunning;
  rec.created_unix = Now();
  BANGER_ASSIGN_OR_RETURN(rec.ip, deps_.recorder->AllocateAddress(spec.name,
                                                                 desired_.settings.subnet));
  rec.kernel_digest = inputs.kernel.digest;
  rec.image_digest = inputs.image.digest;
  Status st = OkStatus();
  if (spec.from_snapshot.empty()) {
    st = deps_.vms->Create(rec, inputs, progress);
  } else if (!deps_.snapshots) {
    st = FailedPrecondition("vm " + Quote(spec.name) + " starts from snapshot " +
                            Quote(spec.from_snapshot) + ", and this apply has no snapshot store");
  } else {
    st = deps_.snapshots->Clone(rec, inputs, progress);
  }
  if (!st.ok()) {
    // A VM that never existed gives its address back; a replaced one keeps it.
    if (!previous) (void)deps_.recorder->ReleaseAddress(spec.name);
    return st;
  }
  BANGER_RETURN_IF_ERROR(deps_.recorder->RecordCreatedVm(rec, spec.from_snapshot));
  records_.Mutate([&](model::StoreSnapshot& s) {
    s.vms[spec.name] = rec;
    if (spec.from_snapshot.empty())
      s.restored_from.erase(spec.name);
    else
      s.restored_from[spec.name] = spec.from_snapshot;
  });
  return OkStatus();
}

Status StepRunner::RunVm(const plan::Step& step, StepProgress& progress) {
  FileLock lock;
  if (deps_.lock_vm) {
    BANGER_ASSIGN_OR_RETURN(lock, deps_.lock_vm(step.name));
  }
  model::StoreSnapshot snap = records_.Copy();
  auto old_it = snap.vms.find(step.name);
  const model::VmRecord* old = old_it == snap.vms.end() ? nullptr : &old_it->second;

  if (step.action == Action::kDelete) {
    if (!old) return OkStatus();
    BANGER_RETURN_IF_ERROR(deps_.vms->Destroy(*old, /*keep_work_disk=*/false, progress));
    BANGER_RETURN_IF_ERROR(deps_.recorder->ForgetVm(step.name));
    records_.Mutate([&](model::StoreSnapshot& s) { s.vms.erase(step.name); });
    return OkStatus();
  }
  const specs::VmSpec* spec = desired_.FindVm(step.name);
  if (!spec) return Internal("vm " + Quote(step.name) + " is not in the desired state");

  switch (step.action) {
    case Action::kCreate:
      return CreateVm(*spec, nullptr, progress);
    case Action::kReplace:
      if (old) {
        progress.Note(step.keep_work_disk ? "destroying (work disk kept)" : "destroying");
        BANGER_RETURN_IF_ERROR(deps_.vms->Destroy(*old, step.keep_work_disk, progress));
      }
      return CreateVm(*spec, old, progress);
    case Action::kRestart: {
      if (!old) return CreateVm(*spec, nullptr, progress);
      BANGER_ASSIGN_OR_RETURN(VmInputs inputs, ResolveInputs(*spec));
      model::VmRecord rec = *old;
      progress.Note("stopping");
      BANGER_RETURN_IF_ERROR(deps_.vms->Stop(rec, progress));
      rec.spec = *spec;
      rec.power = model::PowerIntent::kRunning;
      rec.kernel_digest = inputs.kernel.digest;
      BANGER_ASSIGN_OR_RETURN(rec.ip, deps_.recorder->AllocateAddress(spec->name,
                                                                     desired_.settings.subnet));
      progress.Note("starting");
      BANGER_RETURN_IF_ERROR(deps_.vms->Start(rec, inputs, progress));
      BANGER_RETURN_IF_ERROR(deps_.recorder->RecordVm(rec));
      records_.Mutate([&](model::StoreSnapshot& s) { s.vms[spec->name] = rec; });
      return OkStatus();
    }
    case Action::kUpdate: {
      if (!old) return CreateVm(*spec, nullptr, progress);
      BANGER_ASSIGN_OR_RETURN(VmInputs inputs, ResolveInputs(*spec));
      model::VmRecord rec = *old;
      rec.spec = *spec;
      std::vector<std::string> fields;
      for (const auto& c : step.changes) fields.push_back(c.field);
      BANGER_RETURN_IF_ERROR(deps_.vms->Update(rec, inputs, fields, progress));
      BANGER_RETURN_IF_ERROR(deps_.recorder->RecordVm(rec));
      records_.Mutate([&](model::StoreSnapshot& s) { s.vms[spec->name] = rec; });
      return OkStatus();
    }
    default:
      return OkStatus();
  }
}

Status StepRunner::RunSnapshot(const plan::Step& step, StepProgress& progress) {
  if (!deps_.snapshots)
    return FailedPrecondition("this apply has no snapshot store to take snapshots with");
  if (step.action == Action::kDelete || step.action == Action::kReplace) {
    BANGER_RETURN_IF_ERROR(deps_.snapshots->Remove(step.name));
    if (step.action == Action::kDelete) return OkStatus();
  }
  const specs::SnapshotSpec* spec = desired_.FindSnapshot(step.name);
  if (!spec) return Internal("snapshot " + Quote(step.name) + " is not in the desired state");
  // Under the source VM's lock: the snapshot pauses it, and nothing else may
  // stop or restart it meanwhile.
  FileLock lock;
  if (deps_.lock_vm) {
    BANGER_ASSIGN_OR_RETURN(lock, deps_.lock_vm(spec->vm));
  }
  model::StoreSnapshot snap = records_.Copy();
  auto source = snap.vms.find(spec->vm);
  if (source == snap.vms.end())
    return FailedPrecondition("vm " + Quote(spec->vm) + " does not exist, so it cannot be "
                              "snapshotted");
  return deps_.snapshots->Take(*spec, source->second, progress);
}

}  // namespace banger::apply
