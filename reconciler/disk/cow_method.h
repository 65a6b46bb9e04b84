// The copy-on-write methods for a VM's rootfs and which one fits a VMM on
// a given host. Pure: probing a real directory is fs_probe.h, making the
// disk is cow.h.
#pragma once

#include <string>
#include <string_view>

#include "reconciler/base/error.h"

namespace banger::disk {

enum class CowMethod {
  kQcow2,       // qcow2 overlay backed by the raw base; QEMU only
  kReflink,     // FICLONE: shared extents, instant; raw (XFS, btrfs)
  kCopy,        // sparse full copy; raw, works on any filesystem
};

// The stable name kept in handles.json: "qcow2", "reflink", "copy".
std::string_view CowMethodName(CowMethod method);

// The inverse of CowMethodName; an unknown name is InvalidArgument.
Result<CowMethod> ParseCowMethod(std::string_view name);

// What the filesystem holding the VM directories supports.
struct CowProbe {
  std::string fs_type;   // "xfs", "btrfs", "ext4", "tmpfs", ... or "0x<magic>"
  bool reflink = false;  // FICLONE worked on a test pair in that directory
};

// QEMU reads qcow2, so it always gets an overlay: no copy, no root, any
// filesystem. Firecracker only reads raw images: reflink when the
// filesystem shares extents (instant, unprivileged, nothing to tear down),
// else a sparse copy. Every method is an ordinary file the user owns, so
// a VM's disk needs no root and no live device between boots.
// `vmm_name` is "qemu" or "firecracker"; anything else is InvalidArgument.
Result<CowMethod> ChooseCowMethod(std::string_view vmm_name, const CowProbe& probe);

// The drive format the VMM must be told: "qcow2" for kQcow2, else "raw".
std::string_view DriveFormat(CowMethod method);

// For doctor and `vm show`: "qcow2 overlay", "reflink (xfs)", "sparse copy".
std::string DescribeCowMethod(CowMethod method, const CowProbe& probe);

}  // namespace banger::disk
