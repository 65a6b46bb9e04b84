// Loop devices through /dev/loop-control and the loop ioctls.
#pragma once

#include <cstdint>
#include <string>

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

}  // namespace banger::helper
