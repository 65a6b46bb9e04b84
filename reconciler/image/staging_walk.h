// Walking a staging tree and resolving the metadata each path really has.
//
// The files on disk in staging belong to whoever ran banger; a RootfsTree's
// entries say what they should be in the image. Paths without an entry
// belong to root:root with their on-disk mode. Every consumer of a staged
// tree (the ext4 builder, the cache tarball writer, the work seed) resolves
// metadata the same way through EffectiveMeta.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <map>
#include <string>

#include "reconciler/base/error.h"
#include "reconciler/image/rootfs_tree.h"

namespace banger::image {

// Called for every path under the root (not the root itself), parents before
// children, names in sorted order, symlinks never followed. `rel` has no
// leading '/'. Returning an error stops the walk with that error.
using StagingVisitor = std::function<Status(const std::string& rel, const struct stat& st)>;

Status WalkStaging(const std::string& root, const StagingVisitor& visit);

// The metadata `rel` gets in the image: the tree's entry if there is one,
// else root:root with the on-disk mode.
EntryMeta EffectiveMeta(const RootfsTree& tree, const std::string& rel,
                        const struct stat& st);

// Whether a metadata entry describes a node that exists only as metadata
// (device or FIFO): staging may hold a placeholder file or nothing for it.
bool IsSpecialNode(uint32_t mode);

// One path of an image: what staging holds for it (if anything) and the
// metadata it must get.
struct StagedItem {
  bool staged = false;  // false: a device/FIFO that exists only as metadata
  struct stat st {};
  EntryMeta meta;
};

// Every path under the root (not the root itself), sorted so parents come
// first: the staged ones with their effective metadata, plus metadata-only
// devices and FIFOs. Other entries without a staged file are stale and left
// out.
Result<std::map<std::string, StagedItem>> CollectStagedItems(const RootfsTree& tree);

// Relative path -> absolute path inside the image ("" -> "/").
std::string ImagePath(const std::string& rel);

}  // namespace banger::image
