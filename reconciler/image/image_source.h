// Where an image's root filesystem comes from.
//
// Each `[[image]]` source kind (dir, tar, debootstrap, oci) is one
// ImageSourceBuilder: it names the content it would produce (Identity, the
// image record's digest, so a change of source shows up as drift) and fills
// a staging RootfsTree with it (Populate). The image store looks builders up
// in an ImageSourceRegistry; the OCI puller registers itself there too.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "reconciler/apply/effects.h"
#include "reconciler/base/error.h"
#include "reconciler/image/layer_extract.h"
#include "reconciler/image/rootfs_tree.h"
#include "reconciler/os/exec.h"
#include "specs/desired.h"

namespace banger::image {

class ImageSourceBuilder {
 public:
  virtual ~ImageSourceBuilder() = default;
  // "sha256:<hex>" of what the spec's source holds now (a directory's
  // content, a tarball's bytes, a debootstrap recipe). Equal identities mean
  // an image need not be rebuilt.
  virtual Result<std::string> Identity(const specs::ImageSpec& spec) = 0;
  // Fills `tree` (an empty staging directory) with the source's root
  // filesystem: content on disk, owners/modes/xattrs/devices as entries.
  // On failure the tree is left partial; the caller discards the staging.
  virtual Status Populate(const specs::ImageSpec& spec, RootfsTree& tree,
                          apply::StepProgress& progress) = 0;
};

class ImageSourceRegistry {
 public:
  // Replaces any builder registered for the same kind.
  void Register(specs::ImageSource kind, std::unique_ptr<ImageSourceBuilder> builder);
  // The builder for the spec's source; fails naming the image when none is
  // registered for it.
  Result<ImageSourceBuilder*> Find(const specs::ImageSpec& spec) const;

 private:
  std::map<specs::ImageSource, std::unique_ptr<ImageSourceBuilder>> builders_;
};

struct SourceOptions {
  std::string cache_dir;   // debootstrap tarballs go to <cache_dir>/debootstrap
  CommandRunner* runner = nullptr;  // null: the system runner
  ExtractLimits limits;    // caps `tar` sources and cached debootstrap trees (settings image_max_*)
};

// The `dir` source: a directory tree on the host, copied as it is.
// Symlinks are never followed (a link is copied as a link); hardlinks stay
// hardlinks; sockets are skipped; device nodes and FIFOs become metadata
// entries. Owners, modes and xattrs (user.*, security.*, trusted.* where
// readable) come from lstat of the source, so an image built unprivileged
// from a root-owned tree keeps its owners.
// Copies `source_dir` into tree.root() and records its metadata.
Status CopyTreeFromDir(const std::string& source_dir, RootfsTree& tree);

// sha256 over every path, its metadata, symlink target and file content, in
// walk order.
Result<std::string> DirTreeDigest(const std::string& source_dir);

class DirSource : public ImageSourceBuilder {
 public:
  Result<std::string> Identity(const specs::ImageSpec& spec) override;
  Status Populate(const specs::ImageSpec& spec, RootfsTree& tree,
                  apply::StepProgress& progress) override;
};

// The `tar` source: a root filesystem tarball (any compression libarchive
// reads). Owners, modes, xattrs, hardlinks and device nodes come from the
// archive headers; hostile paths are contained by ApplyTarball.
class TarSource : public ImageSourceBuilder {
 public:
  explicit TarSource(ExtractLimits limits = {}) : limits_(limits) {}
  // sha256 of the archive's bytes.
  Result<std::string> Identity(const specs::ImageSpec& spec) override;
  Status Populate(const specs::ImageSpec& spec, RootfsTree& tree,
                  apply::StepProgress& progress) override;

 private:
  ExtractLimits limits_;
};

// Applies a whole-rootfs archive (no OCI whiteouts, device nodes kept).
Status ExtractRootfsTarball(const std::string& archive, RootfsTree& tree,
                            const ExtractLimits& limits = {});

// A registry with the dir, tar and debootstrap sources.
ImageSourceRegistry BuiltinImageSources(const SourceOptions& options);

}  // namespace banger::image
