// Recording fakes of the executor's effect interfaces, for logic tests.
//
// They keep just enough state to be observed again (which VMs "run", which
// artifacts "exist"), record every call as a line ("vm.create web"), and can
// be told to fail the N-th call of any kind.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "reconciler/apply/effects.h"
#include "reconciler/plan/observed.h"

namespace banger::testing {

// Shared call log and fault injection for all fakes.
class FakeWorld {
 public:
  // Fails the call with this ordinal (1-based, counting every effect call
  // and every record write); 0: never.
  void FailCall(int n) { fail_at_ = n; }
  // Fails every call whose log line starts with `prefix`.
  void FailMatching(std::string prefix) { fail_prefix_ = std::move(prefix); }
  std::vector<std::string> calls() const;
  void ClearCalls();
  int call_count() const;

  // Records a call; returns an error when fault injection says so.
  Status Call(const std::string& line);

 private:
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
  int counter_ = 0;
  int fail_at_ = 0;
  std::string fail_prefix_;
};

class FakeKernelStore : public apply::KernelStore {
 public:
  explicit FakeKernelStore(FakeWorld& w) : w_(w) {}
  Result<model::KernelRecord> Build(const specs::KernelSpec& spec, const specs::Settings&,
                                    apply::StepProgress&) override;
  Status Remove(const model::KernelRecord& record) override;
  bool Present(const model::KernelRecord& record) override;
  std::set<std::string> present;  // digests

 private:
  FakeWorld& w_;
  std::mutex mu_;
};

class FakeImageStore : public apply::ImageStore {
 public:
  explicit FakeImageStore(FakeWorld& w) : w_(w) {}
  Result<model::ImageRecord> Build(const specs::ImageSpec& spec, apply::StepProgress&) override;
  Status Remove(const model::ImageRecord& record) override;
  bool Present(const model::ImageRecord& record) override;
  std::set<std::string> present;  // dirs
  int builds = 0;

 private:
  FakeWorld& w_;
  std::mutex mu_;
};

class FakeVmRuntime : public apply::VmRuntime {
 public:
  explicit FakeVmRuntime(FakeWorld& w) : w_(w) {}
  Status Create(model::VmRecord& record, const apply::VmInputs& inputs,
                apply::StepProgress&) override;
  Status Start(model::VmRecord& record, const apply::VmInputs& inputs,
               apply::StepProgress&) override;
  Status Stop(const model::VmRecord& record, apply::StepProgress&) override;
  Status Destroy(const model::VmRecord& record, bool keep_work_disk,
                 apply::StepProgress&) override;
  Status Update(model::VmRecord& record, const apply::VmInputs& inputs,
                const std::vector<std::string>& fields, apply::StepProgress&) override;
  Result<model::VmLiveness> Observe(const std::string& name) override;

  // Simulates the VMM dying outside banger.
  void Kill(const std::string& name);
  // A VM made by something else (a clone): running, with a work disk.
  void Adopt(model::VmRecord& record, const apply::VmInputs& inputs);
  std::map<std::string, bool> running;   // name -> process alive
  std::set<std::string> work_disks;      // names with a work disk

 private:
  FakeWorld& w_;
  std::mutex mu_;
};

class FakeSnapshotStore : public apply::SnapshotStore {
 public:
  FakeSnapshotStore(FakeWorld& w, FakeVmRuntime& vms) : w_(w), vms_(vms) {}
  Status Take(const specs::SnapshotSpec& spec, const model::VmRecord& vm,
              apply::StepProgress&) override;
  Status Remove(const std::string& name) override;
  Status Clone(model::VmRecord& record, const apply::VmInputs& inputs,
               apply::StepProgress&) override;
  std::map<std::string, plan::ObservedSnapshot> taken;

 private:
  FakeWorld& w_;
  FakeVmRuntime& vms_;
  std::mutex mu_;
};

// An in-memory store.
class FakeRecorder : public apply::StateRecorder {
 public:
  explicit FakeRecorder(FakeWorld& w) : w_(w) {}
  Status RecordSettings(const specs::Settings& s) override;
  Status RecordKernel(const model::KernelRecord& r) override;
  Status ForgetKernel(const std::string& name) override;
  Status RecordImage(const model::ImageRecord& r) override;
  Status ForgetImage(const std::string& name) override;
  Status RecordFileSync(const model::FileSyncRecord& r) override;
  Status ForgetFileSync(const std::string& name) override;
  Status RecordVm(const model::VmRecord& r) override;
  Status RecordCreatedVm(const model::VmRecord& r, const std::string& restored_from) override;
  Status ForgetVm(const std::string& name) override;
  Result<std::string> AllocateAddress(const std::string& vm, const std::string& subnet) override;
  Status ReleaseAddress(const std::string& vm) override;

  model::StoreSnapshot Snapshot() const;
  std::map<std::string, std::string> addresses;

 private:
  Status Bump(const std::string& line);
  FakeWorld& w_;
  mutable std::mutex mu_;
  model::StoreSnapshot snap_;
};

// Observation of the fakes, as reconciler/observe would produce it.
plan::Observed ObserveFakes(FakeRecorder& rec, FakeKernelStore& k, FakeImageStore& i,
                            FakeVmRuntime& v, FakeSnapshotStore* s = nullptr);

}  // namespace banger::testing
