// Writing a staged RootfsTree as a tarball that carries its real metadata.
//
// Staging files belong to whoever ran banger; the archive headers get the
// tree's owners, full modes, xattrs (pax SCHILY.xattr), device numbers and
// hardlinks instead, so extracting the archive with ApplyTarball gives back
// an equal tree. Used to cache expensive sources (debootstrap).
#pragma once

#include <string>

#include "reconciler/base/error.h"
#include "reconciler/image/rootfs_tree.h"

namespace banger::image {

// Writes an uncompressed pax archive to `out_path` atomically (temporary
// file, fsync, rename): readers see the old archive or the complete new one.
Status WriteTreeTarball(const RootfsTree& tree, const std::string& out_path);

}  // namespace banger::image
