#include "reconciler/oci/oci_image_source.h"

#include <cstdio>

namespace banger::oci {
namespace {

// Per-layer notes: "layer sha256:ab12.. 12.3 MiB done".
class NoteProgress : public PullProgress {
 public:
  explicit NoteProgress(apply::StepProgress& p) : p_(p) {}
  void LayerStarted(const Descriptor& layer, bool cached) override {
    if (cached) p_.Note("layer " + Short(layer.digest) + " cached");
  }
  void LayerBytes(const Descriptor& layer, uint64_t received) override {
    p_.Bytes("layer " + Short(layer.digest), received, layer.size);
  }
  void LayerDone(const Descriptor& layer) override {
    char size[32];
    snprintf(size, sizeof size, "%.1f MiB", static_cast<double>(layer.size) / (1 << 20));
    p_.Note("layer " + Short(layer.digest) + " " + size + " done");
  }

 private:
  static std::string Short(const std::string& d) { return d.substr(0, 19); }
  apply::StepProgress& p_;
};

// The platform manifest digest the spec's reference names now.
Result<std::string> ResolveSpecDigest(const specs::ImageSpec& spec, const HttpLimits& http) {
  BANGER_ASSIGN_OR_RETURN(Reference ref, ParseReference(spec.oci));
  BANGER_ASSIGN_OR_RETURN(Platform platform, Platform::Parse(spec.platform));
  PullOptions options;
  options.insecure = spec.insecure;
  options.http = http;
  return Puller().ResolveDigest(ref, platform, options);
}

}  // namespace

Result<PullResult> OciImageSource::PullFor(const specs::ImageSpec& spec,
                                           apply::StepProgress* progress) {
  const std::string key = spec.oci + "|" + spec.platform;
  BANGER_ASSIGN_OR_RETURN(Reference ref, ParseReference(spec.oci));
  BANGER_ASSIGN_OR_RETURN(Platform platform, Platform::Parse(spec.platform));
  {
    std::lock_guard<std::mutex> l(mu_);
    if (auto it = pulled_.find(key); it != pulled_.end()) return it->second;
    // Pin the manifest Identity resolved, so the image is built from
    // exactly the digest it is recorded under even if the tag moves.
    if (auto it = resolved_.find(key); it != resolved_.end()) ref.digest = it->second;
  }
  PullOptions options;
  options.cache_dir = cache_dir_;
  options.insecure = spec.insecure;
  std::optional<NoteProgress> notes;
  if (progress) notes.emplace(*progress);
  Puller puller;
  auto pulled = puller.Pull(ref, platform, options, notes ? &*notes : nullptr);
  if (!pulled.ok()) return std::move(pulled).error().WithContext("pull " + Quote(spec.oci));
  std::lock_guard<std::mutex> l(mu_);
  pulled_[key] = *pulled;
  return std::move(pulled).value();
}

Result<std::string> OciImageSource::Identity(const specs::ImageSpec& spec) {
  const std::string key = spec.oci + "|" + spec.platform;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (auto it = pulled_.find(key); it != pulled_.end()) return it->second.manifest_digest;
  }
  BANGER_ASSIGN_OR_RETURN(std::string digest, ResolveSpecDigest(spec, HttpLimits{}));
  std::lock_guard<std::mutex> l(mu_);
  resolved_[key] = digest;
  return digest;
}

Status OciImageSource::Populate(const specs::ImageSpec& spec, image::RootfsTree& tree,
                                apply::StepProgress& progress) {
  BANGER_ASSIGN_OR_RETURN(PullResult r, PullFor(spec, &progress));
  progress.Note("flattening " + std::to_string(r.layer_paths.size()) + " layers");
  auto stats = Flatten(r, tree, limits_);
  if (!stats.ok()) return std::move(stats).error().WithContext("flatten " + Quote(spec.oci));
  return OkStatus();
}

Result<std::string> CurrentManifestDigest(const specs::ImageSpec& spec) {
  BANGER_ASSIGN_OR_RETURN(Reference ref, ParseReference(spec.oci));
  if (!ref.digest.empty()) return std::string();
  HttpLimits quick;
  quick.connect_timeout = std::chrono::seconds(5);
  quick.stall_timeout = std::chrono::seconds(10);
  return ResolveSpecDigest(spec, quick);
}

}  // namespace banger::oci
