// The per-VM work disk mounted at /root: an ext4 image cloned from the
// image's work-seed.ext4 and grown to the VM's `disk` size.
//
// The work disk holds the user's data and outlives VM replacement
// (keep_work_disk), so every change is made on a staged copy and renamed
// into place only after e2fsck and resize2fs succeeded: an interrupted
// grow leaves the previous disk untouched.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/os/exec.h"

namespace banger::disk {

// Work disk sizes are whole filesystem blocks of the largest ext4 block
// size mkfs uses, so resize2fs can fill the file exactly.
constexpr uint64_t kWorkDiskAlignment = 4096;

enum class ResizeAction { kNone, kGrow };

// Decides what bringing a work disk of `current` bytes to `requested` bytes
// takes. Errors: requested zero or not a multiple of kWorkDiskAlignment
// (InvalidArgument); requested < current (FailedPrecondition naming both
// sizes: ext4 cannot be shrunk safely while the guest's data is on it).
Result<ResizeAction> PlanWorkDiskResize(uint64_t current, uint64_t requested);

// "4 GiB" for whole binary units, else "<n> bytes"; for messages.
std::string DescribeBytes(uint64_t bytes);

// The size of the work disk file: the size of the block device the guest
// sees, which resize2fs makes the filesystem fill.
Result<uint64_t> WorkDiskSize(const std::string& path);

// `e2fsck -f -y <image>` and `resize2fs <image> <size/1024>K`.
std::vector<std::string> E2fsckArgv(const std::string& image);
std::vector<std::string> Resize2fsArgv(const std::string& image, uint64_t size);

// e2fsck exits 0 (clean), 1 (errors fixed) or 2 (fixed, reboot advised:
// meaningless for an unmounted image) when the filesystem is usable. 4 is
// kCorruption (errors left), anything else kIo; timeouts are kTimeout.
Status CheckE2fsckResult(const ExecResult& result, const std::string& image);

// Creates the work disk at `dest` (which must not exist) from `seed`:
// reflink when the filesystem can share extents, sparse copy otherwise,
// then grown to `size` (extend the file, e2fsck -fy, resize2fs) when it is
// larger than the seed. `size` smaller than the seed is refused.
// On failure nothing is left at dest.
Status CreateWorkDisk(const std::string& seed, const std::string& dest, uint64_t size,
                      CommandRunner& runner = SystemRunner());

// Grows the existing work disk at `path` to `new_size`. The caller
// guarantees the VM using it is stopped. Equal size does nothing; a smaller
// size is refused (FailedPrecondition naming both sizes; the caller adds
// the VM name). The grow happens on a staged clone (instant with reflink,
// a sparse copy of the data otherwise) that replaces `path` atomically.
Status GrowWorkDisk(const std::string& path, uint64_t new_size,
                    CommandRunner& runner = SystemRunner());

}  // namespace banger::disk
