#include "reconciler/image/tar_source.h"

#include "reconciler/image/layer_extract.h"
#include "reconciler/kernel/digest.h"
#include "reconciler/os/fs.h"

namespace banger::image {

Status ExtractRootfsTarball(const std::string& archive, RootfsTree& tree) {
  ExtractOptions options;
  options.oci_whiteouts = false;    // a rootfs tarball is one complete layer
  options.keep_device_nodes = true; // /dev/console and friends belong to it
  ExtractStats stats;
  return ApplyTarball(archive, tree, options, stats);
}

Result<std::string> TarSource::Identity(const specs::ImageSpec& spec) {
  if (!PathExists(spec.tar)) {
    return NotFound("image " + Quote(spec.name) + ": tarball " + Quote(spec.tar) +
                    " does not exist");
  }
  auto digest = kernel::FileSha256(spec.tar);
  if (!digest.ok()) return std::move(digest).error().WithContext("image " + Quote(spec.name));
  return "sha256:" + *digest;
}

Status TarSource::Populate(const specs::ImageSpec& spec, RootfsTree& tree,
                           apply::StepProgress& progress) {
  progress.Note("extracting " + spec.tar);
  Status st = ExtractRootfsTarball(spec.tar, tree);
  if (!st.ok()) return std::move(st).error().WithContext("image " + Quote(spec.name));
  return OkStatus();
}

}  // namespace banger::image
