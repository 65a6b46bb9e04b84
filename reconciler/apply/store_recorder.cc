#include "reconciler/apply/store_recorder.h"

namespace banger::apply {

Status StoreRecorder::RecordSettings(const specs::Settings& settings) {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.PutSettings(settings);
}
Status StoreRecorder::RecordKernel(const model::KernelRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.PutKernel(record);
}
Status StoreRecorder::ForgetKernel(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_); return store_.DeleteKernel(name); }
Status StoreRecorder::RecordImage(const model::ImageRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.PutImage(record);
}
Status StoreRecorder::ForgetImage(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_); return store_.DeleteImage(name); }
Status StoreRecorder::RecordFileSync(const model::FileSyncRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.PutFileSync(record);
}
Status StoreRecorder::ForgetFileSync(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.DeleteFileSync(name);
}
Status StoreRecorder::RecordVm(const model::VmRecord& record) {
  std::lock_guard<std::mutex> lock(mu_); return store_.PutVm(record); }
Status StoreRecorder::RecordCreatedVm(const model::VmRecord& record,
                                      const std::string& restored_from) {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.PutCreatedVm(record, restored_from);
}
Status StoreRecorder::ForgetVm(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_); return store_.DeleteVm(name); }

Result<std::string> StoreRecorder::AllocateAddress(const std::string& vm,
                                                   const std::string& subnet) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string ip;
  BANGER_RETURN_IF_ERROR(store_.Write([&](store::StoreTxn& txn) -> Status {
    BANGER_ASSIGN_OR_RETURN(ip, txn.AllocateAddress(vm, subnet));
    return OkStatus();
  }));
  return ip;
}

Status StoreRecorder::ReleaseAddress(const std::string& vm) {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.Write([&](store::StoreTxn& txn) { return txn.ReleaseAddress(vm); });
}

}  // namespace banger::apply
