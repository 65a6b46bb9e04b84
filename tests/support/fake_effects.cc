#include "tests/support/fake_effects.h"

namespace banger::testing {

std::vector<std::string> FakeWorld::calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return calls_;
}

void FakeWorld::ClearCalls() {
  std::lock_guard<std::mutex> l(mu_);
  calls_.clear();
}

int FakeWorld::call_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return counter_;
}

Status FakeWorld::Call(const std::string& line) {
  std::lock_guard<std::mutex> l(mu_);
  ++counter_;
  calls_.push_back(line);
  if (counter_ == fail_at_ || (!fail_prefix_.empty() && line.rfind(fail_prefix_, 0) == 0))
    return Error(Code::kIo, "injected failure in " + Quote(line));
  return OkStatus();
}

Result<model::KernelRecord> FakeKernelStore::Build(const specs::KernelSpec& spec,
                                                   const specs::Settings&,
                                                   apply::StepProgress&) {
  BANGER_RETURN_IF_ERROR(w_.Call("kernel.build " + spec.name));
  model::KernelRecord r;
  r.spec = spec;
  r.digest = "k-" + spec.name + "-" + spec.deb + spec.path_kernel;
  r.dir = "/kernels/" + r.digest;
  std::lock_guard<std::mutex> l(mu_);
  present.insert(r.digest);
  return r;
}

Status FakeKernelStore::Remove(const model::KernelRecord& record) {
  BANGER_RETURN_IF_ERROR(w_.Call("kernel.remove " + record.spec.name));
  std::lock_guard<std::mutex> l(mu_);
  present.erase(record.digest);
  return OkStatus();
}

bool FakeKernelStore::Present(const model::KernelRecord& record) {
  std::lock_guard<std::mutex> l(mu_);
  return present.count(record.digest) > 0;
}

Result<model::ImageRecord> FakeImageStore::Build(const specs::ImageSpec& spec,
                                                 apply::StepProgress&) {
  BANGER_RETURN_IF_ERROR(w_.Call("image.build " + spec.name));
  std::lock_guard<std::mutex> l(mu_);
  model::ImageRecord r;
  r.spec = spec;
  r.digest = "i-" + spec.name + "-" + spec.dir;
  r.dir = "/images/" + spec.name + "-" + std::to_string(++builds);
  present.insert(r.dir);
  return r;
}

Status FakeImageStore::Remove(const model::ImageRecord& record) {
  BANGER_RETURN_IF_ERROR(w_.Call("image.remove " + record.spec.name));
  std::lock_guard<std::mutex> l(mu_);
  present.erase(record.dir);
  return OkStatus();
}

bool FakeImageStore::Present(const model::ImageRecord& record) {
  std::lock_guard<std::mutex> l(mu_);
  return present.count(record.dir) > 0;
}

Status FakeVmRuntime::Create(model::VmRecord& record, const apply::VmInputs& inputs,
                             apply::StepProgress&) {
  std::string line = "vm.create " + record.spec.name + " " + inputs.image.dir + " " + record.ip;
  // The real runtime imports a declared workspace as part of the create.
  if (record.spec.workspace)
    line += " workspace " + record.spec.workspace->repo + "@" + record.spec.workspace->ref;
  BANGER_RETURN_IF_ERROR(w_.Call(line));
  std::lock_guard<std::mutex> l(mu_);
  running[record.spec.name] = true;
  work_disks.insert(record.spec.name);
  for (const auto& f : inputs.file_syncs) record.synced[f.name] = "fdigest-" + f.name;
  return OkStatus();
}

Status FakeVmRuntime::Start(model::VmRecord& record, const apply::VmInputs&,
                            apply::StepProgress&) {
  BANGER_RETURN_IF_ERROR(w_.Call("vm.start " + record.spec.name));
  std::lock_guard<std::mutex> l(mu_);
  running[record.spec.name] = true;
  return OkStatus();
}

Status FakeVmRuntime::Stop(const model::VmRecord& record, apply::StepProgress&) {
  BANGER_RETURN_IF_ERROR(w_.Call("vm.stop " + record.spec.name));
  std::lock_guard<std::mutex> l(mu_);
  running[record.spec.name] = false;
  return OkStatus();
}

Status FakeVmRuntime::Destroy(const model::VmRecord& record, bool keep_work_disk,
                              apply::StepProgress&) {
  BANGER_RETURN_IF_ERROR(w_.Call("vm.destroy " + record.spec.name +
                                 (keep_work_disk ? " keep" : "")));
  std::lock_guard<std::mutex> l(mu_);
  running.erase(record.spec.name);
  if (!keep_work_disk) work_disks.erase(record.spec.name);
  return OkStatus();
}

Status FakeVmRuntime::Update(model::VmRecord& record, const apply::VmInputs& inputs,
                             const std::vector<std::string>& fields, apply::StepProgress&) {
  std::string line = "vm.update " + record.spec.name;
  for (const auto& f : fields) line += " " + f;
  BANGER_RETURN_IF_ERROR(w_.Call(line));
  for (const auto& f : inputs.file_syncs) record.synced[f.name] = "fdigest-" + f.name;
  return OkStatus();
}

Result<model::VmLiveness> FakeVmRuntime::Observe(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  model::VmLiveness live;
  auto it = running.find(name);
  live.has_handles = it != running.end();
  live.process_running = live.has_handles && it->second;
  live.tap_present = live.process_running;
  live.rootfs_present = live.has_handles;
  live.work_disk_present = work_disks.count(name) > 0;
  return live;
}

void FakeVmRuntime::Kill(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  running[name] = false;
}

void FakeVmRuntime::Adopt(model::VmRecord& record, const apply::VmInputs& inputs) {
  std::lock_guard<std::mutex> l(mu_);
  running[record.spec.name] = true;
  work_disks.insert(record.spec.name);
  for (const auto& f : inputs.file_syncs) record.synced[f.name] = "fdigest-" + f.name;
}

Status FakeRecorder::Bump(const std::string& line) {
  BANGER_RETURN_IF_ERROR(w_.Call(line));
  ++snap_.serial;
  return OkStatus();
}

#define FAKE_RECORD(method, type, field, key, what)          \
  Status FakeRecorder::method(const type& r) {               \
    std::lock_guard<std::mutex> l(mu_);                      \
    BANGER_RETURN_IF_ERROR(Bump(std::string(what) + " " + r.spec.name)); \
    snap_.field[key] = r;                                    \
    return OkStatus();                                       \
  }
FAKE_RECORD(RecordKernel, model::KernelRecord, kernels, r.spec.name, "record.kernel")
FAKE_RECORD(RecordImage, model::ImageRecord, images, r.spec.name, "record.image")
FAKE_RECORD(RecordFileSync, model::FileSyncRecord, file_syncs, r.spec.name, "record.file_sync")
FAKE_RECORD(RecordVm, model::VmRecord, vms, r.spec.name, "record.vm")
#undef FAKE_RECORD

Status FakeRecorder::RecordCreatedVm(const model::VmRecord& r, const std::string& restored_from) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_RETURN_IF_ERROR(
      Bump("record.vm " + r.spec.name + (restored_from.empty() ? "" : " from " + restored_from)));
  snap_.vms[r.spec.name] = r;
  if (restored_from.empty())
    snap_.restored_from.erase(r.spec.name);
  else
    snap_.restored_from[r.spec.name] = restored_from;
  return OkStatus();
}

Status FakeRecorder::RecordSettings(const specs::Settings& s) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_RETURN_IF_ERROR(Bump("record.settings"));
  snap_.settings = s;
  return OkStatus();
}

Status FakeRecorder::ForgetKernel(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_RETURN_IF_ERROR(Bump("forget.kernel " + name));
  snap_.kernels.erase(name);
  return OkStatus();
}

Status FakeRecorder::ForgetImage(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_RETURN_IF_ERROR(Bump("forget.image " + name));
  snap_.images.erase(name);
  return OkStatus();
}

Status FakeRecorder::ForgetFileSync(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_RETURN_IF_ERROR(Bump("forget.file_sync " + name));
  snap_.file_syncs.erase(name);
  return OkStatus();
}

Status FakeSnapshotStore::Take(const specs::SnapshotSpec& spec, const model::VmRecord& vm,
                               apply::StepProgress&) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_RETURN_IF_ERROR(w_.Call("snapshot.take " + spec.name + " " + vm.spec.name));
  if (taken.count(spec.name)) return FailedPrecondition("snapshot " + Quote(spec.name) + " exists");
  plan::ObservedSnapshot s;
  s.source_vm = vm.spec.name;
  s.declared = true;
  s.image = vm.spec.image;
  s.kernel = vm.spec.kernel;
  s.image_digest = vm.image_digest;
  s.kernel_digest = vm.kernel_digest;
  s.memory = vm.spec.memory;
  s.vcpus = vm.spec.vcpus;
  taken[spec.name] = s;
  return OkStatus();
}

Status FakeSnapshotStore::Clone(model::VmRecord& record, const apply::VmInputs& inputs,
                                apply::StepProgress&) {
  const std::string& from = record.spec.from_snapshot;
  {
    std::lock_guard<std::mutex> l(mu_);
    BANGER_RETURN_IF_ERROR(w_.Call("snapshot.clone " + from + " " + record.spec.name + " " + record.ip));
    if (!taken.count(from)) return FailedPrecondition("snapshot " + Quote(from) + " has not been taken");
  }
  vms_.Adopt(record, inputs);
  return OkStatus();
}

Status FakeSnapshotStore::Remove(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_RETURN_IF_ERROR(w_.Call("snapshot.remove " + name));
  taken.erase(name);
  return OkStatus();
}

Status FakeRecorder::ForgetVm(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_RETURN_IF_ERROR(Bump("forget.vm " + name));
  snap_.vms.erase(name);
  snap_.restored_from.erase(name);  // the store's foreign key cascades
  addresses.erase(name);
  return OkStatus();
}

Result<std::string> FakeRecorder::AllocateAddress(const std::string& vm, const std::string&) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = addresses.find(vm);
  if (it != addresses.end()) return it->second;
  for (int host = 2;; ++host) {
    std::string ip = "172.30.0." + std::to_string(host);
    bool used = false;
    for (const auto& [_, a] : addresses) used |= a == ip;
    if (!used) return addresses[vm] = ip;
  }
}

Status FakeRecorder::ReleaseAddress(const std::string& vm) {
  std::lock_guard<std::mutex> l(mu_);
  addresses.erase(vm);
  return OkStatus();
}

model::StoreSnapshot FakeRecorder::Snapshot() const {
  std::lock_guard<std::mutex> l(mu_);
  return snap_;
}

plan::Observed ObserveFakes(FakeRecorder& rec, FakeKernelStore& k, FakeImageStore& i,
                            FakeVmRuntime& v, FakeSnapshotStore* s) {
  plan::Observed o;
  o.store = rec.Snapshot();
  for (const auto& [name, r] : o.store.kernels) o.kernel_present[name] = k.Present(r);
  for (const auto& [name, r] : o.store.images) o.image_present[name] = i.Present(r);
  for (const auto& [name, r] : o.store.vms) o.vms[name] = *v.Observe(name);
  for (const auto& [name, r] : o.store.file_syncs) o.file_sync_digests[name] = "fdigest-" + name;
  if (s) o.snapshots = s->taken;
  o.restored_from = o.store.restored_from;
  return o;
}

}  // namespace banger::testing
