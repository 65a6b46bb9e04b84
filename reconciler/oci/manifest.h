// OCI and Docker schema2 manifests, image indexes and image configs, decoded
// strictly: every descriptor's digest must be well formed, foreign layers
// and descriptors with external `urls` are refused, and Docker schema1 is
// rejected with a message saying so.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::oci {

namespace media {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
// The Accept header sent for manifests: everything banger can use.
std::string AcceptHeader();
}  // namespace media

struct Platform {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;  // "v8" for arm64, "v7" for arm; empty: any

  // "linux/arm64/v8", "linux/amd64".
  static Result<Platform> Parse(std::string_view text);
  std::string ToString() const;
};

struct Descriptor {
  std::string media_type;
  std::string digest;
  uint64_t size = 0;
  std::optional<Platform> platform;  // index entries only
};

enum class ManifestKind { kIndex, kManifest };

// Decides what a manifest body is from the Content-Type and the body's own
// mediaType/schemaVersion. Schema1 and unknown types are errors.
Result<ManifestKind> ClassifyManifest(std::string_view content_type, std::string_view body);

struct Index {
  std::vector<Descriptor> manifests;
};

struct Manifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;  // oldest first
};

Result<Index> ParseIndex(std::string_view body);
Result<Manifest> ParseManifest(std::string_view body);

// The index entry for the platform: os and architecture must match; a
// requested variant must match (arm64 without a variant counts as v8).
// Without a requested variant an entry without one is preferred.
Result<Descriptor> SelectPlatform(const Index& index, const Platform& platform);

// What the image asks to run with (config.config in the image config).
struct ImageConfig {
  std::string os;
  std::string architecture;
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string user;
  std::string working_dir;
  std::vector<std::string> diff_ids;  // rootfs.diff_ids, one per layer
};

Result<ImageConfig> ParseImageConfig(std::string_view body);

}  // namespace banger::oci
