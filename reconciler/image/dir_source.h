// The `dir` image source: a directory tree on the host, copied as it is.
//
// Symlinks are never followed (a link is copied as a link); hardlinks stay
// hardlinks; sockets are skipped; device nodes and FIFOs become metadata
// entries. Owners, modes and xattrs (user.*, security.*, trusted.* where
// readable) come from lstat of the source, so an image built unprivileged
// from a root-owned tree keeps its owners.
#pragma once

#include <string>

#include "reconciler/image/image_source.h"

namespace banger::image {

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

}  // namespace banger::image
