// The guest initramfs: a gzip'd cpio "newc" archive with a static busybox,
// the guest's kernel modules in load order and guest/initramfs/init.
//
// Written with libarchive (no external cpio). The archive is reproducible:
// owners are root, every timestamp is zero and entries come in a fixed
// order, so the same inputs give the same bytes and the same store digest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/kernel/kernel_modules.h"

namespace banger::kernel {

struct InitramfsContents {
  std::string busybox;                // a statically linked busybox binary
  std::vector<GuestModule> modules;   // in load order
  std::string init_script;            // becomes /init
};

// The busybox applets /init uses, linked as /bin/NAME -> busybox.
const std::vector<std::string>& InitramfsApplets();

// Writes the archive to `path` (created or truncated).
Status WriteInitramfs(const InitramfsContents& contents, const std::string& path);

struct ArchiveMember {
  std::string path;      // as stored, without a leading "./"
  uint32_t mode = 0;     // full st_mode
  uint64_t size = 0;
  std::string symlink;   // target, for symlinks
  uint64_t rdev = 0;     // for device nodes
  std::string data;      // content of regular files when requested
};

// Lists any archive libarchive reads (cpio, tar; compressed or not).
// File contents are kept for members whose size is at most keep_data_up_to.
Result<std::vector<ArchiveMember>> ListArchive(const std::string& path,
                                               uint64_t keep_data_up_to = 0);

}  // namespace banger::kernel
