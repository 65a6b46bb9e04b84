// Block devices the helper makes for the owner: loop devices (through
// /dev/loop-control and the loop ioctls) and device-mapper snapshots over
// them (through `dmsetup`). Hosts without device-mapper (no
// /dev/mapper/control, or no dmsetup) get a clear error; the snapshot table
// and argv are built by pure functions so they are tested everywhere.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::helper {

struct AttachedLoop {
  std::string device;  // "/dev/loop7"
  uint64_t inode = 0;  // backing file identity as the kernel reports it
  uint64_t dev = 0;
};

// Binds a free loop device to the open file `backing_fd` (LOOP_CONFIGURE),
// labelled `label` (visible as lo_file_name). Retries when another process
// takes the same free device first.
Result<AttachedLoop> AttachLoop(int backing_fd, bool read_only, const std::string& label);

// Unbinds `device` if it still backs the file identified by inode/dev;
// a device already unbound succeeds, one now backing another file is refused.
Status DetachLoop(const std::string& device, uint64_t inode, uint64_t dev);

// Size in bytes of a block device (BLKGETSIZE64).
Result<uint64_t> BlockDeviceSize(const std::string& device);

// ---- device-mapper ----------------------------------------------------------

inline constexpr const char* kDmControl = "/dev/mapper/control";

// Ok when the control node exists and dmsetup was found; else Unavailable:
// "device-mapper is not available on this host (no '/dev/mapper/control')".
Status CheckDeviceMapper(const std::string& control_path, const std::string& dmsetup_path);

// "0 <sectors> snapshot <origin> <cow> P|N <chunk>".
std::string DmSnapshotTable(uint64_t origin_sectors, const std::string& origin,
                            const std::string& cow, bool persistent, uint32_t chunk_sectors);

std::vector<std::string> DmCreateArgv(const std::string& dmsetup, const std::string& name,
                                      const std::string& table);
std::vector<std::string> DmRemoveArgv(const std::string& dmsetup, const std::string& name);

// "/dev/mapper/<name>".
std::string DmDevicePath(const std::string& name);

}  // namespace banger::helper
