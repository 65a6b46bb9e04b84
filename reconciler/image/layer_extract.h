// Applying tar archives (OCI layers, `tar` image sources) to a RootfsTree.
//
// Hostile input is the normal case: absolute paths, "..", links that lead
// outside the root, writes through a symlink planted by an earlier entry or
// layer, whiteouts that escape or pass through symlinks, device nodes and
// absurd sizes are rejected or contained. Nothing is ever written outside
// tree.root(). Files are created owner-accessible on disk; the archive's
// owners, modes, xattrs and device numbers go to tree entries (a device
// number that does not fit Linux's 12-bit major and 20-bit minor is
// refused, not wrapped). A damaged header is an error, never skipped.
#pragma once

#include <cstdint>
#include <string>

#include "reconciler/base/error.h"
#include "reconciler/image/rootfs_tree.h"

namespace banger::image {

struct ExtractLimits {
  uint64_t max_total_bytes = 64ull << 30;  // uncompressed, across all layers
  uint64_t max_entries = 2'000'000;
};

struct ExtractOptions {
  bool oci_whiteouts = false;   // honour .wh.NAME and .wh..wh..opq (OCI layers)
  bool keep_device_nodes = false;  // record char/block devices as metadata
  ExtractLimits limits;
};

// Running totals across several Apply calls (one image = many layers).
struct ExtractStats {
  uint64_t bytes = 0;
  uint64_t entries = 0;
  uint64_t skipped_devices = 0;
};

// Applies one archive (any compression libarchive detects) to the tree.
// On error the tree may be partially written; callers build in staging and
// discard it.
Status ApplyTarball(const std::string& archive_path, RootfsTree& tree,
                    const ExtractOptions& options, ExtractStats& stats);

}  // namespace banger::image
