// Whether saved state can be continued here: the rules a restore checks
// before it stops or touches anything. Pure, so the rules are table-tested.
//
// State loads only into the VMM it came from: the same VMM (qemu or
// firecracker), the same version of it (device state layouts change between
// releases), the same machine model and accelerator, the same kernel store
// entry (the guest's memory holds that kernel), and a machine of the same
// memory size and vCPU count. The binary's path may differ (a moved binary
// of the same version is the same VMM).
#pragma once

#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/model/snapshot_meta.h"

namespace banger::snapshot {

// What a restore would run with.
struct RestoreHost {
  std::string vmm;           // the driver the VM runs under here
  std::string vmm_version;   // its binary's version line
  std::string machine;
  std::string accel;
  std::string kernel_digest; // the VM's kernel now
  uint64_t memory_bytes = 0; // the VM's spec now
  int vcpus = 0;
};

// Every difference, one line each ("memory: saved 512 MiB, this VM has 1 GiB").
std::vector<std::string> Mismatches(const model::SnapshotMeta& meta, const RestoreHost& host);

// Ok, or kFailedPrecondition listing every mismatch:
// "snapshot 'warm' cannot be restored here: vmm version: saved with '...', this host runs '...'; ..."
Status CheckCompatible(const model::SnapshotMeta& meta, const RestoreHost& host);

// "512 MiB", "1 GiB", "1.5 GiB".
std::string FormatBytes(uint64_t bytes);

}  // namespace banger::snapshot
