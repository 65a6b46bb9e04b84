// Building an ext4 image from a RootfsTree without privileges.
//
// mkfs.ext4 -d copies the staging directory's content (and, for hardlinks,
// its link structure); then one `debugfs -w -f script` run gives every path
// the owner, group, full mode (setuid/setgid/sticky included) and xattrs of
// its metadata entry, and creates device nodes and FIFOs that staging could
// not hold. The result is the same whether or not banger ran as root.
//
// Metadata rules are those of image/staging_walk.h: a path without an entry
// belongs to root:root with its on-disk mode; an entry for a device or FIFO
// replaces any placeholder file in staging; other entries without a file in
// staging are ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"
#include "reconciler/image/rootfs_tree.h"
#include "reconciler/os/exec.h"

namespace banger::disk {

// What a tree occupies, counted the way ext4 stores it (4 KiB blocks).
struct Ext4Content {
  uint64_t data_bytes = 0;    // file, directory, long-symlink and xattr blocks
  uint64_t inodes = 0;        // distinct inodes (hardlinks counted once)
  uint64_t apparent_bytes = 0;  // sum of regular file sizes, for messages
};

// Counts the staged tree plus metadata-only nodes.
Result<Ext4Content> MeasureTree(const image::RootfsTree& tree);

// The smallest image the content fits in: data plus inode tables, journal
// and allocation overhead, rounded up to MiB.
uint64_t MinimumImageBytes(const Ext4Content& content);
// The size used when the spec gives none: the minimum plus room to work in
// (half the minimum, at least 512 MiB). Images are sparse, so unused room
// costs no disk space.
uint64_t DefaultImageBytes(const Ext4Content& content);
// The inode count to format with: enough for the content and for files
// created later (one per 16 KiB of image, as mkfs would pick).
uint64_t InodeCount(const Ext4Content& content, uint64_t image_bytes);

// Chooses the image size: `requested` when given (failing, with `what` in
// the message, if the content does not fit), else DefaultImageBytes.
Result<uint64_t> ChooseImageSize(const Ext4Content& content,
                                 std::optional<uint64_t> requested,
                                 std::string_view what);

// Builds `out_path` (replaced if present) of exactly `size_bytes` from the
// tree. Fails without leaving `out_path` behind when the content does not
// fit or a tool fails. `label` is the filesystem label (may be empty).
Status BuildExt4(const image::RootfsTree& tree, uint64_t size_bytes,
                 const std::string& out_path, CommandRunner& runner,
                 const std::string& label = "");

}  // namespace banger::disk
