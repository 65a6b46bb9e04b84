// The handles.json file of a VM: its transient handles (VMM PID, sockets,
// tap, disks) written when it starts and read back on the next run, then
// checked against the OS by observation. Never stored in SQLite.
#pragma once

#include <optional>
#include <string>

#include "reconciler/base/error.h"
#include "reconciler/model/handles.h"

namespace banger::store {

// Replaces the file atomically (temp, fsync, rename, fsync dir): a crash
// leaves the old handles or the new, never a torn file. Mode 0600; the
// directory must exist.
Status WriteHandles(const std::string& path, const model::VmHandles& handles);

// nullopt when the file does not exist (the VM was never started, or was
// cleaned up). Fails with kCorruption naming the file when it is not valid
// JSON, misses a field, has a mistyped field or one this binary does not
// know; with kIo (or kPermissionDenied) when it cannot be read.
Result<std::optional<model::VmHandles>> ReadHandles(const std::string& path);

}  // namespace banger::store
