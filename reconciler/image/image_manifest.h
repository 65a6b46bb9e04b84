// manifest.json of a published image: what it was built from and when.
// Read by `banger image list/show` and kept with the image's files.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "reconciler/base/error.h"
#include "specs/desired.h"

namespace banger::image {

// The files of a published image directory.
constexpr char kRootfsFile[] = "rootfs.ext4";
constexpr char kWorkSeedFile[] = "work-seed.ext4";
constexpr char kManifestFile[] = "manifest.json";

struct ImageManifest {
  specs::ImageSpec spec;         // as built
  std::string digest;            // source identity, "sha256:<hex>"
  uint64_t rootfs_bytes = 0;     // size of rootfs.ext4 (sparse)
  uint64_t work_seed_bytes = 0;  // size of work-seed.ext4
  uint64_t content_bytes = 0;    // apparent size of the files in the rootfs
  int64_t created_unix = 0;
  std::string dir;               // where it was read from; not stored

  const std::string& name() const { return spec.name; }
};

nlohmann::json ManifestToJson(const ImageManifest& m);
// Fails with kCorruption naming the missing or mistyped field.
Result<ImageManifest> ManifestFromJson(const nlohmann::json& j);

// Reads <dir>/manifest.json; the result's `dir` is set to `dir`.
Result<ImageManifest> ReadManifest(const std::string& dir);

}  // namespace banger::image
