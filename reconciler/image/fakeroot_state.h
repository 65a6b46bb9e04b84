// fakeroot's saved state (`fakeroot -s FILE`): what a rootless build really
// meant the owners, modes and device numbers to be.
//
// Under fakeroot, chown/chmod/mknod only update faked's database, keyed by
// the file's device and inode; the files on disk keep the invoking user's
// ownership and device nodes are empty regular files. The saved file has
// one line per inode:
//   dev=<hex>,ino=<dec>,mode=<octal>,uid=<dec>,gid=<dec>,nlink=<dec>,rdev=<dec>
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "reconciler/base/error.h"
#include "reconciler/image/rootfs_tree.h"

namespace banger::image {

struct FakerootInode {
  uint32_t mode = 0;  // full st_mode
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t rdev = 0;
};

using FakerootState = std::map<std::pair<uint64_t, uint64_t>, FakerootInode>;  // (dev, ino)

// Parses a saved state; fails with kCorruption naming the bad line.
Result<FakerootState> ParseFakerootState(std::string_view text);

// Records metadata for every path under tree.root() (the root included):
// from the state when fakeroot knew the inode, else root:root with the
// on-disk mode (files fakeroot never touched appear root-owned inside it).
Status ApplyFakerootState(const FakerootState& state, RootfsTree& tree);

}  // namespace banger::image
