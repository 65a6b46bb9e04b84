// Kernel bundles: a .tar.zst holding `vmlinuz` (or `bzImage`) and
// optionally `initrd.img`, `modules/` and `vmlinux`.
//
// Bundles come from URLs, so the archive is treated as hostile. Only
// regular files, directories and symbolic links are accepted; an entry with
// an absolute path or a ".." component, a hard link, a symlink that is
// absolute or climbs out of the bundle, a duplicate entry, or an entry
// written through a symlink is rejected, and so is an archive over the
// size or entry limits. Nothing is ever created outside the destination.
#pragma once

#include <cstdint>
#include <string>

#include "reconciler/base/error.h"

namespace banger::kernel {

struct BundleLimits {
  uint64_t max_bytes = 4ull << 30;  // uncompressed file data
  uint64_t max_entries = 200000;
};

// Paths of what the bundle holds, inside the destination ("" when absent).
struct KernelBundle {
  std::string kernel;       // vmlinuz or bzImage
  std::string initrd;       // initrd.img
  std::string modules_dir;  // modules/
  std::string vmlinux;      // vmlinux
};

// Extracts `archive` into `dest_dir` (an existing, empty directory). On
// error the destination may hold part of the bundle; callers extract into
// staging and discard it.
Result<KernelBundle> ExtractKernelBundle(const std::string& archive, const std::string& dest_dir,
                                         const BundleLimits& limits = {});

// Whether a symlink at `entry_path` (relative, normalized) pointing to
// `target` stays inside the bundle under the rules above.
bool SymlinkStaysInside(const std::string& entry_path, const std::string& target);

}  // namespace banger::kernel
