// The disks of a snapshot: point-in-time copies made while the VM is
// paused, and the disks a restored VM runs on, made from those copies.
//
// A copy is a reflink where the filesystem shares extents (instant, no
// space until either side writes), else a sparse copy (only the data a disk
// holds). A qcow2 rootfs (QEMU's overlay over its image) is copied as the
// overlay file alone: it keeps naming the image's rootfs as its backing
// file, so the copy costs what the guest wrote, never the image. A restored
// VM's qcow2 rootfs is a new overlay backed by the snapshot's copy; raw
// disks are reflinked or copied again, so a VM never writes a snapshot's
// files.
#pragma once

#include <string>

#include "reconciler/base/error.h"
#include "reconciler/disk/disk_file.h"
#include "reconciler/model/records.h"
#include "reconciler/model/snapshot_meta.h"
#include "reconciler/os/exec.h"

namespace banger::snapshot {

// The backing file named in a qcow2 image's header ("" when it has none);
// kCorruption when `path` is not a qcow2 image.
Result<std::string> Qcow2BackingFile(const std::string& path);

// Copies the disk `src` (drive `id`, `format` raw|qcow2) to <dir>/<file>,
// which must not exist, and flushes it.
Result<model::SnapshotDisk> CopyDisk(const std::string& src, const std::string& id,
                                     const std::string& format, const std::string& dir,
                                     const std::string& file);

// Makes the disk a restored VM runs on from the snapshot's copy of `disk`
// (in `snapshot_dir`) as the staged file `out`: a qcow2 overlay backed by
// the copy for a qcow2 disk, else a reflink or sparse copy. Returns the
// format of the result.
Result<std::string> MakeDiskFromSnapshot(const model::SnapshotDisk& disk,
                                         const std::string& snapshot_dir,
                                         disk::StagedFile& out, CommandRunner& runner);

// Ok when the copy and its backing file (if any) exist; kNotFound naming
// the missing one.
Status CheckDiskFiles(const model::SnapshotDisk& disk, const std::string& snapshot_dir);

// Whether a recorded snapshot's files are there to restore from: its state
// (and memory) file and every disk with its backing file. Digests are a
// restore's to check.
bool SnapshotFilesPresent(const model::SnapshotRecord& record);

}  // namespace banger::snapshot
