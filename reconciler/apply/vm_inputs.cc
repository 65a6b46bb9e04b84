#include "reconciler/apply/vm_inputs.h"

namespace banger::apply {

Result<VmInputs> ResolveVmInputs(const specs::VmSpec& spec, const model::StoreSnapshot& records,
                                 const specs::DesiredState* desired) {
  VmInputs in;
  auto k = records.kernels.find(spec.kernel);
  if (k == records.kernels.end())
    return FailedPrecondition("kernel " + Quote(spec.kernel) + " is not built");
  auto i = records.images.find(spec.image);
  if (i == records.images.end())
    return FailedPrecondition("image " + Quote(spec.image) + " is not built");
  in.kernel = k->second;
  in.image = i->second;
  for (const auto& f : spec.file_sync) {
    const specs::FileSyncSpec* d = desired ? desired->FindFileSync(f) : nullptr;
    if (d) {
      in.file_syncs.push_back(*d);
    } else if (auto r = records.file_syncs.find(f); r != records.file_syncs.end()) {
      in.file_syncs.push_back(r->second.spec);
    } else {
      return FailedPrecondition("file_sync " + Quote(f) + " is not declared");
    }
  }
  if (desired) in.settings = desired->settings;
  else if (records.settings) in.settings = *records.settings;
  return in;
}

}  // namespace banger::apply
