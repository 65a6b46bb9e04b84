// StateRecorder over the SQLite store: each call is one transaction. The
// executor calls it from several threads; one connection serves them in
// turn.
#pragma once

#include <mutex>

#include "reconciler/apply/effects.h"
#include "reconciler/store/store.h"

namespace banger::apply {

class StoreRecorder : public StateRecorder {
 public:
  explicit StoreRecorder(store::Store& store) : store_(store) {}

  Status RecordSettings(const specs::Settings& settings) override;
  Status RecordKernel(const model::KernelRecord& record) override;
  Status ForgetKernel(const std::string& name) override;
  Status RecordImage(const model::ImageRecord& record) override;
  Status ForgetImage(const std::string& name) override;
  Status RecordFileSync(const model::FileSyncRecord& record) override;
  Status ForgetFileSync(const std::string& name) override;
  Status RecordVm(const model::VmRecord& record) override;
  Status RecordCreatedVm(const model::VmRecord& record, const std::string& restored_from) override;
  Status ForgetVm(const std::string& name) override;
  Result<std::string> AllocateAddress(const std::string& vm, const std::string& subnet) override;
  Status ReleaseAddress(const std::string& vm) override;

 private:
  std::mutex mu_;
  store::Store& store_;
};

}  // namespace banger::apply
