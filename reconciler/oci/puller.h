// Pulling an image into the blob cache and flattening it into a root
// filesystem. Pull: resolve the reference (tag or
// digest), pick the platform's manifest from an index, fetch the config and
// the layers (in parallel, each verified before it enters the cache), and
// record the manifest in the cache's index.json. Blobs already cached (and
// re-verified) are not transferred again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/image/layer_extract.h"
#include "reconciler/image/rootfs_tree.h"
#include "reconciler/oci/http_session.h"
#include "reconciler/oci/manifest.h"
#include "reconciler/oci/reference.h"

namespace banger::oci {

struct PullOptions {
  std::string cache_dir;      // blobs go to <cache_dir>/oci
  bool insecure = false;      // allow plain http to a non-loopback registry
  // Docker client config with `auths`; empty: $HOME/.docker/config.json.
  std::string docker_config;
  int parallel_layers = 3;    // concurrent layer downloads
  // Tries per blob; a transient failure (5xx, truncation, corruption,
  // connection loss) is retried with a fresh download, others are not.
  int attempts = 3;
  size_t max_manifest_bytes = 4u << 20;
  // Largest blob accepted (descriptor size), before anything is fetched.
  uint64_t max_blob_bytes = 32ull << 30;
  HttpLimits http;            // connect and stall timeouts
};

// Per-layer progress. Calls are serialised by the puller (never concurrent)
// but may come from worker threads.
class PullProgress {
 public:
  virtual ~PullProgress() = default;
  // A layer is about to be fetched (`cached`: it was found in the cache and
  // nothing will be transferred).
  virtual void LayerStarted(const Descriptor& layer, bool cached) = 0;
  virtual void LayerBytes(const Descriptor& layer, uint64_t received) = 0;
  virtual void LayerDone(const Descriptor& layer) = 0;
};

struct PullResult {
  Reference reference;
  std::string manifest_digest;      // of the platform manifest
  std::string index_digest;         // of the index, when the ref named one
  Manifest manifest;
  ImageConfig config;
  std::vector<std::string> layer_paths;  // cached blob files, oldest first
  uint64_t bytes_transferred = 0;        // blob bytes fetched from the network
  uint64_t blobs_transferred = 0;
};

class Puller {
 public:
  // The digest of the platform's image manifest the reference names now,
  // fetching manifests only (no blobs, no cache): what `plan` compares
  // against the digest an image was built from.
  Result<std::string> ResolveDigest(const Reference& ref, const Platform& platform,
                                    const PullOptions& options);
  Result<PullResult> Pull(const Reference& ref, const Platform& platform,
                          const PullOptions& options, PullProgress* progress = nullptr);
};

// Applies result.layer_paths to `tree` (whose root should be an empty
// staging directory). On error the tree is partially written; the caller
// discards the staging directory.
Result<image::ExtractStats> Flatten(const PullResult& result, image::RootfsTree& tree,
                                    const image::ExtractLimits& limits = {});

}  // namespace banger::oci
