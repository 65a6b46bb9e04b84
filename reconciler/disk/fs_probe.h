// What the filesystem under a directory can do for VM disks.
#pragma once

#include <string>

#include "reconciler/base/error.h"
#include "reconciler/disk/cow_method.h"

namespace banger::disk {

// The name of a statfs f_type: "xfs", "btrfs", "ext4" (ext2/3/4 share a
// magic), "tmpfs", "overlayfs", ... or "0x<hex>" when unknown.
std::string FilesystemName(long f_type);

// Probes `dir` (which must exist and be writable): the filesystem type, and
// whether FICLONE works there, by cloning a one-block file into another,
// both unlinked at once so nothing is left behind. Support is tested rather
// than inferred from the type because XFS without -m reflink=1, or a
// filesystem mounted through overlayfs or NFS, may refuse it.
Result<CowProbe> ProbeCowMethods(const std::string& dir);

}  // namespace banger::disk
