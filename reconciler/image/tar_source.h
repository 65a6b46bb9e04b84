// The `tar` image source: a root filesystem tarball (any compression
// libarchive reads). Owners, modes, xattrs, hardlinks and device nodes come
// from the archive headers; hostile paths are contained by ApplyTarball.
#pragma once

#include "reconciler/image/image_source.h"

namespace banger::image {

class TarSource : public ImageSourceBuilder {
 public:
  // sha256 of the archive's bytes.
  Result<std::string> Identity(const specs::ImageSpec& spec) override;
  Status Populate(const specs::ImageSpec& spec, RootfsTree& tree,
                  apply::StepProgress& progress) override;
};

// Applies a whole-rootfs archive (no OCI whiteouts, device nodes kept).
Status ExtractRootfsTarball(const std::string& archive, RootfsTree& tree);

}  // namespace banger::image
