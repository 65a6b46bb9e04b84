#include "specs/desired.h"

#include <algorithm>

namespace banger::specs {

std::string SourceLocation::ToString() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

template <typename T>
static const T* FindByName(const std::vector<T>& items, const std::string& name) {
  auto it = std::find_if(items.begin(), items.end(),
                         [&](const T& t) { return t.name == name; });
  return it == items.end() ? nullptr : &*it;
}

const KernelSpec* DesiredState::FindKernel(const std::string& name) const {
  return FindByName(kernels, name);
}
const ImageSpec* DesiredState::FindImage(const std::string& name) const {
  return FindByName(images, name);
}
const FileSyncSpec* DesiredState::FindFileSync(const std::string& name) const {
  return FindByName(file_syncs, name);
}
const VmSpec* DesiredState::FindVm(const std::string& name) const {
  return FindByName(vms, name);
}
const SnapshotSpec* DesiredState::FindSnapshot(const std::string& name) const {
  return FindByName(snapshots, name);
}

std::string_view KernelSourceName(KernelSource s) {
  switch (s) {
    case KernelSource::kDeb: return "deb";
    case KernelSource::kPath: return "path";
    case KernelSource::kUrl: return "url";
    case KernelSource::kCatalog: return "catalog";
  }
  return "?";
}

std::string_view ImageSourceName(ImageSource s) {
  switch (s) {
    case ImageSource::kOci: return "oci";
    case ImageSource::kDir: return "dir";
    case ImageSource::kTar: return "tar";
    case ImageSource::kDebootstrap: return "debootstrap";
  }
  return "?";
}

std::string_view RestartPolicyName(RestartPolicy p) {
  switch (p) {
    case RestartPolicy::kAlways: return "always";
    case RestartPolicy::kOnFailure: return "on-failure";
    case RestartPolicy::kNever: return "never";
  }
  return "?";
}

std::optional<RestartPolicy> ParseRestartPolicy(std::string_view text) {
  for (RestartPolicy p : {RestartPolicy::kAlways, RestartPolicy::kOnFailure, RestartPolicy::kNever})
    if (RestartPolicyName(p) == text) return p;
  return std::nullopt;
}

}  // namespace banger::specs
