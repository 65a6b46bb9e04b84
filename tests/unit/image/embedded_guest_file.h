// The embedded copy of a guest file, as the image build installs it; the
// guest script tests run these copies, not the files in the repository.
#pragma once

#include <string>
#include <string_view>

#include "reconciler/image/guest_assets.h"

namespace banger::image {

inline std::string Embedded(std::string_view image_path) {
  for (const GuestFile& f : GuestFiles()) {
    if (f.image_path == image_path) return std::string(f.content);
  }
  return "";
}

}  // namespace banger::image
