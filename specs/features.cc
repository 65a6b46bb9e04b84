#include "specs/features.h"

#include <array>
#include <optional>

namespace banger::specs {
namespace {

// Indexed by the enum values; every builder is part of this build.
constexpr std::array<bool, 4> kImageSourceBuilt = {
    true,  // kOci
    true,  // kDir
    true,  // kTar
    true,  // kDebootstrap
};
constexpr std::array<bool, 4> kKernelSourceBuilt = {
    true,  // kDeb
    true,  // kPath
    true,  // kUrl
    true,  // kCatalog
};

std::array<std::optional<bool>, 4> image_override;
std::array<std::optional<bool>, 4> kernel_override;

}  // namespace

bool ImageSourceAvailable(ImageSource source) {
  auto i = static_cast<size_t>(source);
  if (i >= kImageSourceBuilt.size()) return false;
  return image_override[i].value_or(kImageSourceBuilt[i]);
}

bool KernelSourceAvailable(KernelSource source) {
  auto i = static_cast<size_t>(source);
  if (i >= kKernelSourceBuilt.size()) return false;
  return kernel_override[i].value_or(kKernelSourceBuilt[i]);
}

std::string_view ImageSourceNoun(ImageSource source) {
  switch (source) {
    case ImageSource::kOci: return "OCI images";
    case ImageSource::kDir: return "directory images";
    case ImageSource::kTar: return "tarball images";
    case ImageSource::kDebootstrap: return "debootstrap images";
  }
  return "images of this kind";
}

std::string_view KernelSourceNoun(KernelSource source) {
  switch (source) {
    case KernelSource::kDeb: return "Debian package kernels";
    case KernelSource::kPath: return "kernels from local paths";
    case KernelSource::kUrl: return "kernels from URLs";
    case KernelSource::kCatalog: return "catalog kernels";
  }
  return "kernels of this kind";
}

void SetSourceAvailableForTesting(ImageSource source, bool available) {
  image_override.at(static_cast<size_t>(source)) = available;
}

void SetSourceAvailableForTesting(KernelSource source, bool available) {
  kernel_override.at(static_cast<size_t>(source)) = available;
}

void ResetSourceAvailabilityForTesting() {
  image_override = {};
  kernel_override = {};
}

}  // namespace banger::specs
