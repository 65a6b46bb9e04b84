// Durable records: what banger built and converged, kept in SQLite.
//
// Each record holds the spec as it was last applied (so the planner can diff
// desired against applied) plus the durable facts a later run needs: where an
// artifact lives, which address a VM owns, whether the user stopped it.
// Transient facts (PIDs, taps, sockets) are never here: see handles.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "reconciler/model/snapshot_meta.h"
#include "specs/desired.h"

namespace banger::model {

// Who declared a resource: apply prunes only what a spec created; images and
// kernels pulled with an imperative verb stay until removed by hand.
enum class Origin { kSpec, kCli };

struct KernelRecord {
  specs::KernelSpec spec;      // as applied
  Origin origin = Origin::kSpec;
  std::string digest;          // sha256 of the stored kernel content
  std::string dir;             // absolute directory in the kernel store
  std::string version;         // kernel release, e.g. 6.1.0-28-cloud-amd64
  int64_t created_unix = 0;
};

struct ImageRecord {
  specs::ImageSpec spec;       // as applied
  Origin origin = Origin::kSpec;
  std::string digest;          // identity of the source content (e.g. OCI
                               // manifest digest); drift when it moves
  std::string dir;             // absolute directory in the image store
  uint64_t rootfs_bytes = 0;
  int64_t created_unix = 0;
};

enum class PowerIntent { kRunning, kStopped };

struct VmRecord {
  specs::VmSpec spec;          // as applied
  Origin origin = Origin::kSpec;
  std::string ip;              // stable address from the subnet ("" if none)
  PowerIntent power = PowerIntent::kRunning;
  std::string kernel_digest;   // the artifacts it was created/booted from
  std::string image_digest;
  std::map<std::string, std::string> synced;  // file_sync entry -> content digest
  int64_t created_unix = 0;
};

struct FileSyncRecord {
  specs::FileSyncSpec spec;    // as applied
};

// A snapshot as the state db records it (its files: snapshot_meta.h).
struct SnapshotRecord {
  SnapshotMeta meta;           // meta.name is the record's name
  Origin origin = Origin::kCli;
  std::string dir;             // absolute: <state>/snapshots/<name>

  bool operator==(const SnapshotRecord&) const = default;
};

// Everything the store holds, read in one transaction.
struct StoreSnapshot {
  int64_t serial = 0;          // increments on every committed change
  std::optional<specs::Settings> settings;  // as applied
  std::map<std::string, KernelRecord> kernels;
  std::map<std::string, ImageRecord> images;
  std::map<std::string, FileSyncRecord> file_syncs;
  std::map<std::string, VmRecord> vms;
  std::map<std::string, SnapshotRecord> snapshots;
  // VM -> the snapshot its disks were restored from (they are copy-on-write
  // over that snapshot's files until the VM is deleted or restored again).
  std::map<std::string, std::string> restored_from;
};

std::string_view OriginName(Origin o);
std::string_view PowerIntentName(PowerIntent p);

}  // namespace banger::model
