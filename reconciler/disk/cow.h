// A VM's copy-on-write rootfs, made from its image's raw rootfs.ext4.
//
// The image's file is shared by every VM made from it and is never written:
// each VM writes only to its own overlay, clone or copy. Which method fits
// depends on the VMM (QEMU reads qcow2, Firecracker only raw) and on what
// the filesystem holding the VM directories supports. The choice itself is
// pure; probing and creating touch the OS.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/os/exec.h"

namespace banger::disk {

enum class CowMethod {
  kQcow2,       // qcow2 overlay backed by the raw base; QEMU only
  kReflink,     // FICLONE: shared extents, instant; raw (XFS, btrfs)
  kDmSnapshot,  // device-mapper snapshot made by the root helper; raw
  kCopy,        // sparse full copy; raw, works on any filesystem
};

// The stable name kept in handles.json: "qcow2", "reflink", "dm-snapshot",
// "copy".
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
// else dm-snapshot when device-mapper is usable (instant but needs the root
// helper and a live device), else a sparse copy.
// `vmm_name` is "qemu" or "firecracker"; anything else is InvalidArgument.
Result<CowMethod> ChooseCowMethod(std::string_view vmm_name,
                                  const CowProbe& probe, bool dm_available);

// The drive format the VMM must be told: "qcow2" for kQcow2, else "raw".
std::string_view DriveFormat(CowMethod method);

// For doctor and `vm show`: "qcow2 overlay", "reflink (xfs)",
// "dm-snapshot", "sparse copy".
std::string DescribeCowMethod(CowMethod method, const CowProbe& probe);

// The name of a statfs f_type: "xfs", "btrfs", "ext4" (ext2/3/4 share a
// magic), "tmpfs", "overlayfs", ... or "0x<hex>" when unknown.
std::string FilesystemName(long f_type);

// Probes `dir` (which must exist and be writable): the filesystem type, and
// whether FICLONE works there, by cloning a one-block file into another,
// both unlinked at once so nothing is left behind. Support is tested rather
// than inferred from the type because XFS without -m reflink=1, or a
// filesystem mounted through overlayfs or NFS, may refuse it.
Result<CowProbe> ProbeCowMethods(const std::string& dir);

// `qemu-img create -q -f qcow2 -b <base> -F raw <dest>`. The backing format
// is given explicitly: without -F, QEMU would probe the base's format, and
// a guest that writes a qcow2 header into its raw disk could then make the
// host open arbitrary backing files.
std::vector<std::string> Qcow2OverlayArgv(const std::string& base,
                                          const std::string& dest);

// Creates the rootfs for one VM at `dest` from the raw image `base`:
//   kQcow2    a qcow2 overlay naming the canonical absolute path of base
//             (symlinks resolved, so a later change to a symlinked image
//             path cannot swap the data under an existing overlay);
//   kReflink  a FICLONE of base; fails (FailedPrecondition) when the
//             filesystem cannot share extents, since the method was chosen
//             for it and silently copying would hide a wrong probe;
//   kCopy     a sparse copy of base;
//   kDmSnapshot is set up by the root helper, so it is InvalidArgument here.
// `dest` must not exist (kAlreadyExists otherwise) and its directory must.
// The disk is built under a temporary name and renamed when complete: on
// failure nothing is left at dest and no temporary file remains.
Status CreateCowRootfs(CowMethod method, const std::string& base, const std::string& dest,
                       CommandRunner& runner = SystemRunner());

}  // namespace banger::disk
