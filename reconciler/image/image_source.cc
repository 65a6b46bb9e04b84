#include "reconciler/image/image_source.h"

#include "reconciler/image/debootstrap_source.h"
#include "reconciler/image/dir_source.h"
#include "reconciler/image/tar_source.h"

namespace banger::image {

void ImageSourceRegistry::Register(specs::ImageSource kind,
                                   std::unique_ptr<ImageSourceBuilder> builder) {
  builders_[kind] = std::move(builder);
}

Result<ImageSourceBuilder*> ImageSourceRegistry::Find(const specs::ImageSpec& spec) const {
  auto it = builders_.find(spec.source);
  if (it == builders_.end()) {
    return Error(Code::kUnavailable, "image " + Quote(spec.name) + ": source " +
                                         Quote(specs::ImageSourceName(spec.source)) +
                                         " is not supported by this build");
  }
  return it->second.get();
}

ImageSourceRegistry BuiltinImageSources(const SourceOptions& options) {
  CommandRunner& runner = options.runner ? *options.runner : SystemRunner();
  ImageSourceRegistry registry;
  registry.Register(specs::ImageSource::kDir, std::make_unique<DirSource>());
  registry.Register(specs::ImageSource::kTar, std::make_unique<TarSource>());
  registry.Register(specs::ImageSource::kDebootstrap,
                    std::make_unique<DebootstrapSource>(options.cache_dir, runner));
  return registry;
}

}  // namespace banger::image
