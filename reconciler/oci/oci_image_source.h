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
  explicit OciImageSource(std::string cache_dir) : cache_dir_(std::move(cache_dir)) {}

  // The platform manifest's digest: pulling resolves it (layers land in the
  // cache, so Populate then transfers nothing).
  Result<std::string> Identity(const specs::ImageSpec& spec) override;
  Status Populate(const specs::ImageSpec& spec, image::RootfsTree& tree,
                  apply::StepProgress& progress) override;

 private:
  Result<PullResult> PullFor(const specs::ImageSpec& spec, apply::StepProgress* progress);

  std::string cache_dir_;
  std::mutex mu_;
  std::map<std::string, PullResult> pulled_;  // by "ref|platform"
};

}  // namespace banger::oci
