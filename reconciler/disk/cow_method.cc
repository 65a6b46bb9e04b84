#include "reconciler/disk/cow_method.h"

namespace banger::disk {

std::string_view CowMethodName(CowMethod method) {
  switch (method) {
    case CowMethod::kQcow2: return "qcow2";
    case CowMethod::kReflink: return "reflink";
    case CowMethod::kCopy: return "copy";
  }
  return "unknown";
}

Result<CowMethod> ParseCowMethod(std::string_view name) {
  for (CowMethod m : {CowMethod::kQcow2, CowMethod::kReflink, CowMethod::kCopy}) {
    if (CowMethodName(m) == name) return m;
  }
  return InvalidArgument("unknown copy-on-write method " + Quote(name) +
                         " (expected qcow2, reflink or copy)");
}

Result<CowMethod> ChooseCowMethod(std::string_view vmm_name, const CowProbe& probe) {
  if (vmm_name == "qemu") return CowMethod::kQcow2;
  if (vmm_name == "firecracker") {
    if (probe.reflink) return CowMethod::kReflink;
    return CowMethod::kCopy;
  }
  return InvalidArgument("choose copy-on-write method: unknown VMM " +
                         Quote(vmm_name) + " (expected qemu or firecracker)");
}

std::string_view DriveFormat(CowMethod method) {
  return method == CowMethod::kQcow2 ? "qcow2" : "raw";
}

std::string DescribeCowMethod(CowMethod method, const CowProbe& probe) {
  switch (method) {
    case CowMethod::kQcow2: return "qcow2 overlay";
    case CowMethod::kReflink:
      return probe.fs_type.empty() ? "reflink" : "reflink (" + probe.fs_type + ")";
    case CowMethod::kCopy: return "sparse copy";
  }
  return "unknown";
}

}  // namespace banger::disk
