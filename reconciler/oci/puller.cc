#include "reconciler/oci/puller.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "reconciler/oci/blob_cache.h"
#include "reconciler/oci/registry_client.h"

namespace banger::oci {

namespace {

bool IsTransient(const Error& e) {
  return e.code() == Code::kUnavailable || e.code() == Code::kCorruption ||
         e.code() == Code::kTimeout || e.code() == Code::kIo;
}

// Serialises progress callbacks from the worker threads.
class SerialProgress {
 public:
  explicit SerialProgress(PullProgress* p) : p_(p) {}
  void Started(const Descriptor& d, bool cached) {
    if (!p_) return;
    std::lock_guard<std::mutex> lock(mu_);
    p_->LayerStarted(d, cached);
  }
  void Bytes(const Descriptor& d, uint64_t n) {
    if (!p_) return;
    std::lock_guard<std::mutex> lock(mu_);
    p_->LayerBytes(d, n);
  }
  void Done(const Descriptor& d) {
    if (!p_) return;
    std::lock_guard<std::mutex> lock(mu_);
    p_->LayerDone(d);
  }

 private:
  PullProgress* p_;
  std::mutex mu_;
};

class PullJob {
 public:
  PullJob(const Reference& ref, const PullOptions& options, RegistryClient& client,
          BlobCache& cache, PullProgress* progress)
      : ref_(ref), options_(options), client_(client), cache_(cache), progress_(progress) {}

  // Fetches a blob into the cache unless a verified copy is there. Returns
  // the bytes transferred.
  Result<uint64_t> Ensure(const Descriptor& blob, bool is_layer) {
    if (blob.size > options_.max_blob_bytes)
      return Error(Code::kInvalidArgument, "blob " + Quote(blob.digest) + " declares " +
                                               std::to_string(blob.size) + " bytes (limit " +
                                               std::to_string(options_.max_blob_bytes) + ")");
    BANGER_ASSIGN_OR_RETURN(bool cached, cache_.Verify(blob));
    if (is_layer) progress_.Started(blob, cached);
    if (cached) {
      if (is_layer) progress_.Done(blob);
      return uint64_t{0};
    }
    const int attempts = std::max(1, options_.attempts);
    for (int attempt = 1;; ++attempt) {
      if (cancelled_) return Error(Code::kFailedPrecondition, "cancelled after another failure");
      BANGER_ASSIGN_OR_RETURN(BlobWriter writer, cache_.Begin(blob));
      Status st = client_.FetchBlob(
          ref_.repository, blob,
          [&](const char* data, size_t len) -> Status {
            if (cancelled_) return Error(Code::kFailedPrecondition, "cancelled");
            return writer.Write(data, len);
          },
          [&](uint64_t received) {
            if (is_layer) progress_.Bytes(blob, received);
          });
      if (st.ok()) st = cache_.Commit(std::move(writer));
      if (st.ok()) {
        if (is_layer) progress_.Done(blob);
        return blob.size;
      }
      if (attempt >= attempts || !IsTransient(st.error())) {
        if (attempt == 1) return std::move(st).error();
        return std::move(st).error().WithContext("after " + std::to_string(attempt) + " attempts");
      }
    }
  }

  // Fetches all layers with a few worker threads; the first error cancels
  // the rest.
  Status FetchLayers(const std::vector<Descriptor>& layers, uint64_t& bytes, uint64_t& blobs) {
    std::atomic<size_t> next{0};
    std::mutex mu;
    std::optional<Error> first_error;
    auto worker = [&] {
      for (;;) {
        size_t i = next++;
        if (i >= layers.size() || cancelled_) return;
        auto r = Ensure(layers[i], true);
        std::lock_guard<std::mutex> lock(mu);
        if (!r.ok()) {
          if (!first_error) first_error = std::move(r).error();
          cancelled_ = true;
          return;
        }
        bytes += *r;
        if (*r) ++blobs;
      }
    };
    size_t n = std::min<size_t>(std::max(1, options_.parallel_layers), layers.size());
    std::vector<std::thread> threads;
    for (size_t t = 0; t < n; ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    if (first_error) return *first_error;
    return OkStatus();
  }

 private:
  const Reference& ref_;
  const PullOptions& options_;
  RegistryClient& client_;
  BlobCache& cache_;
  SerialProgress progress_;
  std::atomic<bool> cancelled_{false};
};

// The platform's image manifest a reference names, and the index it came
// through when the reference names one. Fetches manifests only.
struct Resolved {
  FetchedManifest manifest;
  Descriptor descriptor;
  std::optional<FetchedManifest> index;
};

Result<Resolved> ResolveManifest(RegistryClient& client, const Reference& ref,
                                 const Platform& platform) {
  BANGER_ASSIGN_OR_RETURN(FetchedManifest top, client.GetManifest(ref.repository, ref.ManifestRef()));
  BANGER_ASSIGN_OR_RETURN(ManifestKind kind, ClassifyManifest(top.media_type, top.body));
  Resolved r;
  if (kind == ManifestKind::kManifest) {
    r.descriptor = Descriptor{std::string(media::kOciManifest), top.digest, top.body.size(),
                              std::nullopt};
    r.manifest = std::move(top);
    return r;
  }
  BANGER_ASSIGN_OR_RETURN(Index index, ParseIndex(top.body));
  BANGER_ASSIGN_OR_RETURN(Descriptor chosen, SelectPlatform(index, platform));
  BANGER_ASSIGN_OR_RETURN(FetchedManifest child, client.GetManifest(ref.repository, chosen.digest));
  if (child.body.size() != chosen.size)
    return Error(Code::kCorruption,
                 "manifest " + Quote(chosen.digest) + " size differs from its index entry");
  BANGER_ASSIGN_OR_RETURN(ManifestKind child_kind, ClassifyManifest(child.media_type, child.body));
  if (child_kind != ManifestKind::kManifest)
    return InvalidArgument("index entry " + Quote(chosen.digest) + " is not an image manifest");
  r.index = std::move(top);
  r.manifest = std::move(child);
  r.descriptor = chosen;
  return r;
}

Result<std::unique_ptr<RegistryClient>> MakeClient(const Reference& ref, const PullOptions& options) {
  RegistryOptions ropts;
  ropts.insecure = options.insecure;
  ropts.max_manifest_bytes = options.max_manifest_bytes;
  ropts.http = options.http;
  BANGER_ASSIGN_OR_RETURN(RegistryMirrors mirrors, RegistryMirrorsFromEnvironment());
  if (auto it = mirrors.find(ref.registry); it != mirrors.end()) ropts.mirror = it->second;
  std::string config_path =
      options.docker_config.empty() ? DefaultDockerConfigPath() : options.docker_config;
  // A mirror is its own host: it gets the credentials stored for it.
  BANGER_ASSIGN_OR_RETURN(ropts.credentials,
                          LoadDockerCredentials(config_path, ropts.mirror.empty() ? ref.registry
                                                                                  : ropts.mirror));
  return std::make_unique<RegistryClient>(ref.registry, ropts);
}

}  // namespace

Result<std::string> Puller::ResolveDigest(const Reference& ref, const Platform& platform,
                                          const PullOptions& options) {
  auto client = MakeClient(ref, options);
  if (!client.ok()) return std::move(client).error().WithContext("resolve " + Quote(ref.ToString()));
  auto resolved = ResolveManifest(**client, ref, platform);
  if (!resolved.ok()) return std::move(resolved).error().WithContext("resolve " + Quote(ref.ToString()));
  return resolved->manifest.digest;
}

Result<PullResult> Puller::Pull(const Reference& ref, const Platform& platform,
                                const PullOptions& options, PullProgress* progress) {
  const std::string what = "pull " + Quote(ref.ToString());
  auto fail = [&](Error e) { return std::move(e).WithContext(what); };
  if (options.cache_dir.empty()) return fail(InvalidArgument("no cache directory"));
  auto cache = BlobCache::Open(options.cache_dir);
  if (!cache.ok()) return fail(std::move(cache).error());
  auto made = MakeClient(ref, options);
  if (!made.ok()) return fail(std::move(made).error());
  RegistryClient& client = **made;

  PullResult result;
  result.reference = ref;
  auto resolved = ResolveManifest(client, ref, platform);
  if (!resolved.ok()) return fail(std::move(resolved).error());
  FetchedManifest manifest = std::move(resolved->manifest);
  Descriptor manifest_desc = resolved->descriptor;
  if (resolved->index) {
    const FetchedManifest& index = *resolved->index;
    result.index_digest = index.digest;
    Descriptor index_desc{std::string(media::kOciIndex), index.digest, index.body.size(),
                          std::nullopt};
    if (Status st = cache->Put(index_desc, index.body); !st.ok()) return fail(std::move(st).error());
  }
  auto parsed = ParseManifest(manifest.body);
  if (!parsed.ok()) return fail(std::move(parsed).error());
  result.manifest = std::move(parsed).value();
  result.manifest_digest = manifest.digest;
  if (!result.manifest.media_type.empty()) manifest_desc.media_type = result.manifest.media_type;
  if (!manifest_desc.platform) manifest_desc.platform = platform;

  PullJob job(ref, options, client, *cache, progress);
  auto config_bytes = job.Ensure(result.manifest.config, false);
  if (!config_bytes.ok()) return fail(std::move(config_bytes).error());
  if (*config_bytes) {
    result.bytes_transferred += *config_bytes;
    ++result.blobs_transferred;
  }
  auto config_text = cache->Read(result.manifest.config);
  if (!config_text.ok()) return fail(std::move(config_text).error());
  auto config = ParseImageConfig(*config_text);
  if (!config.ok()) return fail(std::move(config).error());
  result.config = std::move(config).value();
  if (!result.config.os.empty() && result.config.os != platform.os)
    return fail(InvalidArgument("image is for " + Quote(result.config.os + "/" +
                                                        result.config.architecture) +
                                ", not " + Quote(platform.ToString())));
  if (!result.config.architecture.empty() && result.config.architecture != platform.architecture)
    return fail(InvalidArgument("image is for " + Quote(result.config.os + "/" +
                                                        result.config.architecture) +
                                ", not " + Quote(platform.ToString())));

  if (Status st = job.FetchLayers(result.manifest.layers, result.bytes_transferred,
                                  result.blobs_transferred);
      !st.ok())
    return fail(std::move(st).error());
  for (const auto& layer : result.manifest.layers) result.layer_paths.push_back(cache->BlobPath(layer.digest));

  // Recorded last, so the index never names an image whose blobs are missing.
  if (Status st = cache->Put(manifest_desc, manifest.body); !st.ok()) return fail(std::move(st).error());
  if (Status st = cache->Tag(manifest_desc, ref.ToString()); !st.ok()) return fail(std::move(st).error());
  return result;
}

Result<image::ExtractStats> Flatten(const PullResult& result, image::RootfsTree& tree,
                                    const image::ExtractLimits& limits) {
  if (result.layer_paths.size() != result.manifest.layers.size())
    return Internal("flatten " + Quote(result.reference.ToString()) +
                    ": layer paths do not match the manifest");
  image::ExtractOptions options;
  options.oci_whiteouts = true;
  options.limits = limits;
  image::ExtractStats stats;
  for (size_t i = 0; i < result.layer_paths.size(); ++i) {
    Status st = image::ApplyTarball(result.layer_paths[i], tree, options, stats);
    if (!st.ok())
      return std::move(st).error().WithContext(
          "flatten " + Quote(result.reference.ToString()) + " layer " + std::to_string(i + 1) +
          "/" + std::to_string(result.layer_paths.size()) + " " +
          Quote(result.manifest.layers[i].digest));
  }
  return stats;
}

}  // namespace banger::oci
