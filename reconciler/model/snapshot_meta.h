// A snapshot of a VM: what was saved, with what, and how to check that this
// host can continue from it.
//
// The metadata is written as <snapshot dir>/meta.json (the snapshot's own
// description, read back by `snapshot show` and by a restore) and kept in
// the state db's snapshots table (so `plan` and `snapshot list` need no file
// reads). The JSON codec is strict: an unknown format version, a missing or
// mistyped field is an error naming the file or record.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconciler/base/error.h"

namespace banger::model {

// One disk as copied into the snapshot at the instant the state was saved.
struct SnapshotDisk {
  std::string id;            // the VMM's drive id: "rootfs", "work"
  std::string file;          // file name in the snapshot dir
  std::string format;        // "raw" | "qcow2"
  std::string backing;       // a qcow2 disk's backing file (the image's rootfs); "" for raw
  std::string copy_method;   // "reflink" | "copy": how the point-in-time copy was made
  uint64_t size_bytes = 0;   // apparent size
  uint64_t allocated_bytes = 0;  // blocks the copy took when it was made

  bool operator==(const SnapshotDisk&) const = default;
};

struct SnapshotMeta {
  // The layout of meta.json and of the snapshot dir; a reader refuses a
  // newer one.
  static constexpr int kFormat = 1;

  int format = kFormat;
  std::string name;
  std::string source_vm;
  int64_t created_unix = 0;

  // The VMM and machine the state belongs to; a restore checks them.
  std::string vmm;           // "qemu" | "firecracker"
  std::string vmm_binary;    // absolute path at save time (informative)
  std::string vmm_version;   // first line of `<binary> --version`
  std::string machine;       // VmmDriver::MachineType()
  std::string accel;         // "kvm" | "tcg"
  std::string kernel_name;
  std::string kernel_digest; // the kernel store entry the guest booted
  std::string image_name;
  std::string image_digest;
  uint64_t memory_bytes = 0;
  int vcpus = 0;
  std::string cmdline;       // the kernel command line the guest booted with
  bool channel = true;       // the guest agent's channel device
  std::string mac;           // the guest's MAC and address when saved
  std::string ip;

  // The saved state: QEMU's migration stream in `state_file`; Firecracker's
  // device state there and guest memory in `memory_file`.
  std::string state_file = "state";
  std::string memory_file;   // "" under QEMU
  uint64_t state_bytes = 0;
  std::string state_sha256;  // of state_file, checked before a restore touches anything
  uint64_t memory_file_bytes = 0;
  int64_t save_ms = 0;       // pause to resume, for reports
  std::vector<SnapshotDisk> disks;

  bool operator==(const SnapshotMeta&) const = default;
};

nlohmann::json SnapshotMetaToJson(const SnapshotMeta& meta);
// Strict: kInvalidArgument naming the field for a missing or mistyped one,
// kFailedPrecondition for a format newer than kFormat.
Result<SnapshotMeta> SnapshotMetaFromJson(const nlohmann::json& j);

}  // namespace banger::model
