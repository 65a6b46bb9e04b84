// The `oci = "..."` image source: pulls the image (verified, cached) and
// flattens its layers into the staging tree.
#pragma once

#include <map>
#include <mutex>

#include "reconciler/image/image_source.h"
#include "reconciler/oci/puller.h"

namespace banger::oci {

class OciImageSource : public image::ImageSourceBuilder {
 public:
  // `limits` caps what Populate unpacks (settings image_max_size and
  // image_max_files), across all layers of one image.
  explicit OciImageSource(std::string cache_dir, image::ExtractLimits limits = {})
      : cache_dir_(std::move(cache_dir)), limits_(limits) {}

  // The platform manifest's digest, resolved from the registry (manifests
  // only); Populate then pulls exactly that manifest.
  Result<std::string> Identity(const specs::ImageSpec& spec) override;
  Status Populate(const specs::ImageSpec& spec, image::RootfsTree& tree,
                  apply::StepProgress& progress) override;

 private:
  Result<PullResult> PullFor(const specs::ImageSpec& spec, apply::StepProgress* progress);

  std::string cache_dir_;
  image::ExtractLimits limits_;
  std::mutex mu_;
  std::map<std::string, std::string> resolved_;  // by "ref|platform"
  std::map<std::string, PullResult> pulled_;     // by "ref|platform"
};

// What the image's reference names in its registry now: the platform
// manifest's digest, or "" when the reference is a digest (it cannot
// move). Short timeouts: `plan` calls this for every built OCI image.
Result<std::string> CurrentManifestDigest(const specs::ImageSpec& spec);

}  // namespace banger::oci
