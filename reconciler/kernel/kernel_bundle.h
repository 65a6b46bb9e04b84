// Kernel bundles: a .tar.zst holding `vmlinuz` (or `bzImage`) and
// optionally `initrd.img`, `modules/` and `vmlinux`.
//
// Bundles come from URLs, so the archive is treated as hostile. Only
// regular files, directories and symbolic links are accepted; an entry with
// an absolute path or a ".." component, a hard link, a duplicate entry, or
// an entry written through a symlink is rejected, and so is an archive over
// the size or entry limits. Nothing is ever created outside the destination.
//
// Symbolic links are kept as links with their target text unchanged,
// whatever it points at: real kernel trees carry `modules/<ver>/build ->
// /usr/src/linux-headers-...`, which means something only on the build
// host. Nothing banger does with a bundle follows a link (extracting,
// copying, hashing, collecting modules), so an absolute or climbing target
// can neither be read nor written through. The files banger itself reads
// and boots (`vmlinuz`/`bzImage`, `initrd.img`, `vmlinux`) and `modules/`
// must be real files and a real directory: a link there is refused rather
// than resolved, since resolving it is exactly what must never happen.
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

}  // namespace banger::kernel
