// The image store: builds `[[image]]` root filesystems and keeps them as
// directories of plain files.
//
//   <images_dir>/<name>-<id>/rootfs.ext4      the VM root filesystem
//                            work-seed.ext4   initial /root work disk
//                            manifest.json    what it was built from
//
// A build happens in <staging_dir>/image-XXXXXX (same filesystem as
// images_dir) and is published with one rename, so an image directory is
// either complete or absent. Every build gets a fresh directory: VMs made
// from an earlier build keep their base image until they are replaced and
// the old record is removed.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reconciler/apply/effects.h"
#include "reconciler/base/error.h"
#include "reconciler/image/image_source.h"
#include "reconciler/os/exec.h"
#include "specs/desired.h"

namespace banger::image {

// The files of a published image directory.
constexpr char kRootfsFile[] = "rootfs.ext4";
constexpr char kWorkSeedFile[] = "work-seed.ext4";
constexpr char kManifestFile[] = "manifest.json";

// manifest.json of a published image: what it was built from and when.
// Read by `banger image list/show` and kept with the image's files.

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

struct ImageStoreOptions {
  std::string images_dir;
  std::string staging_dir;               // same filesystem as images_dir
  CommandRunner* runner = nullptr;       // null: the system runner
  uint64_t work_seed_bytes = 64ull << 20;  // grows when /root holds more
  std::function<int64_t()> now;          // unix seconds; null: the clock
};

class FileImageStore : public apply::ImageStore {
 public:
  FileImageStore(ImageStoreOptions options, ImageSourceRegistry sources);

  // Name prefixes of the per-process directories Build and Remove make in
  // staging_dir ("<prefix><pid>.XXXXXX", see os/owned_dir.h), for the sweep
  // of leftovers from dead processes.
  static std::vector<std::string> StagingPrefixes();

  // Source -> staging tree -> work seed split -> guest assets -> two ext4
  // images -> manifest -> rename into images_dir. On any failure the
  // staging directory is removed and nothing is published.
  Result<model::ImageRecord> Build(const specs::ImageSpec& spec,
                                   apply::StepProgress& progress) override;
  // Removes the record's directory (which must lie in images_dir); an
  // already missing directory is fine.
  Status Remove(const model::ImageRecord& record) override;
  // Whether the record's directory holds all three files.
  bool Present(const model::ImageRecord& record) override;

  // Every published image, by name then creation time. Directories without
  // a readable manifest are skipped (they cannot be a finished build).
  Result<std::vector<ImageManifest>> List() const;
  // The newest published build of `name`; kNotFound when there is none.
  Result<ImageManifest> Show(const std::string& name) const;

  ImageSourceRegistry& sources() { return sources_; }
  const ImageStoreOptions& options() const { return options_; }

 private:
  Result<model::ImageRecord> BuildInStaging(const specs::ImageSpec& spec,
                                            const std::string& stage,
                                            apply::StepProgress& progress);
  bool InImagesDir(const std::string& dir) const;

  ImageStoreOptions options_;
  ImageSourceRegistry sources_;
  CommandRunner& runner_;
};

// Paths of an image record's files.
std::string RootfsPath(const model::ImageRecord& record);
std::string WorkSeedPath(const model::ImageRecord& record);

}  // namespace banger::image
