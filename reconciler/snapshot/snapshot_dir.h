// Snapshots on disk: <state>/snapshots/<name>/ holds meta.json, the saved
// state (state; memory under Firecracker) and point-in-time copies of the
// VM's disks. A snapshot is made in an owned staging directory
// (<state>/staging/snapshot-<pid>.<id>/, flock'ed by its process) and
// published with one rename, so the snapshots dir holds complete snapshots
// only: a process killed at any moment leaves a staging directory, which
// the next command sweeps, or a published snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/model/handles.h"
#include "reconciler/model/snapshot_meta.h"
#include "reconciler/os/owned_dir.h"
#include "reconciler/store/state_dir.h"

namespace banger::snapshot {

inline constexpr char kMetaFile[] = "meta.json";
// In a staging directory while the source VM may be paused: which VM, so a
// sweep after a killed snapshot can resume it.
inline constexpr char kSourceFile[] = "source.json";
inline constexpr char kStagingPrefix[] = "snapshot-";
inline constexpr char kRemovingPrefix[] = "removing-snapshot-";

std::string SnapshotsDir(const store::StatePaths& paths);  // <state>/snapshots
std::string SnapshotDir(const store::StatePaths& paths, const std::string& name);

// Snapshot names follow resource names: 1 to 32 of [a-z0-9-], starting
// with a letter or digit.
Status CheckSnapshotName(const std::string& name);

// meta.json of a snapshot dir; kCorruption naming the file when it does not
// decode, kNotFound when missing.
Result<model::SnapshotMeta> ReadMeta(const std::string& dir);
Status WriteMeta(const std::string& dir, const model::SnapshotMeta& meta);

// The source.json of a staging dir.
Status WriteSource(const std::string& staging, const std::string& vm,
                   const model::VmHandles& handles);
Result<std::pair<std::string, model::VmHandles>> ReadSource(const std::string& staging);

// Flushes every file of `staging` and the dir, renames it to `final_dir`
// (kAlreadyExists when that exists) and flushes the parent. On success the
// staging owner no longer removes it.
Status Publish(OwnedDir& staging, const std::string& final_dir);

// Moves a published snapshot dir into an owned removal dir and deletes it;
// a process killed halfway leaves that removal dir to the sweep.
Status RemoveSnapshotDir(const store::StatePaths& paths, const std::string& dir);

struct SpaceUsage {
  uint64_t apparent = 0;   // sum of file sizes
  uint64_t allocated = 0;  // blocks the files take (holes and shared extents
                           // of reflinks count as allocated only once here)
};
// Files directly in `dir` (snapshot dirs are flat).
Result<SpaceUsage> MeasureDir(const std::string& dir);
Result<SpaceUsage> MeasureFile(const std::string& path);

}  // namespace banger::snapshot
