#include "reconciler/disk/ext4_builder.h"

#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>
#include <utility>

#include "reconciler/disk/debugfs.h"
#include "reconciler/image/staging_walk.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"

namespace banger::disk {
namespace {

constexpr uint64_t kBlock = 4096;
constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kInodeSize = 256;
constexpr uint64_t kBytesPerInode = 16384;  // mke2fs's default inode_ratio
// ext4 stores symlink targets shorter than this inside the inode.
constexpr size_t kInlineSymlink = 60;
// Extended attributes that fit next to a 256-byte inode's fixed fields.
constexpr size_t kInlineXattrBytes = 96;

uint64_t RoundUp(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

// mke2fs's default journal size for a filesystem of `bytes`
// (ext2fs_default_journal_size).
uint64_t JournalBytes(uint64_t bytes) {
  uint64_t blocks = bytes / kBlock;
  if (blocks < 32768) return 1024 * kBlock;
  if (blocks < 256 * 1024) return 4096 * kBlock;
  if (blocks < 512 * 1024) return 8192 * kBlock;
  if (blocks < 4096 * 1024) return 16384 * kBlock;
  if (blocks < 8192 * 1024) return 32768 * kBlock;
  if (blocks < 16384 * 1024) return 65536 * kBlock;
  if (blocks < 32768 * 1024) return 131072 * kBlock;
  return 262144 * kBlock;
}

uint64_t XattrBytes(const image::EntryMeta& meta) {
  uint64_t total = 0;
  for (const auto& [name, value] : meta.xattrs) total += 16 + RoundUp(name.size() + value.size(), 4);
  return total;
}

std::string MiB(uint64_t bytes) { return std::to_string((bytes + kMiB - 1) / kMiB) + " MiB"; }

}  // namespace

Result<Ext4Content> MeasureTree(const image::RootfsTree& tree) {
  BANGER_ASSIGN_OR_RETURN(auto items, image::CollectStagedItems(tree));
  Ext4Content c;
  std::set<std::pair<dev_t, ino_t>> seen;
  std::map<std::string, uint64_t> dir_entry_bytes{{"", 0}};
  for (const auto& [rel, item] : items) {
    size_t slash = rel.rfind('/');
    std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
    std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
    dir_entry_bytes[parent] += RoundUp(8 + name.size(), 4);
    if (item.staged && S_ISREG(item.st.st_mode) && item.st.st_nlink > 1 &&
        !seen.insert({item.st.st_dev, item.st.st_ino}).second) {
      continue;  // another name of an inode already counted
    }
    c.inodes++;
    if (XattrBytes(item.meta) > kInlineXattrBytes) c.data_bytes += kBlock;
    if (!item.staged) continue;
    if (S_ISREG(item.st.st_mode)) {
      c.data_bytes += RoundUp(static_cast<uint64_t>(item.st.st_size), kBlock);
      c.apparent_bytes += static_cast<uint64_t>(item.st.st_size);
    } else if (S_ISDIR(item.st.st_mode)) {
      dir_entry_bytes.try_emplace(rel, 0);
    } else if (S_ISLNK(item.st.st_mode) &&
               static_cast<size_t>(item.st.st_size) >= kInlineSymlink) {
      c.data_bytes += kBlock;
    }
  }
  c.inodes++;  // the root directory
  // Directory blocks: entries plus hash-tree slack for large directories.
  for (const auto& [dir, bytes] : dir_entry_bytes) {
    c.data_bytes += RoundUp(24 + bytes + bytes / 8, kBlock);
  }
  return c;
}

uint64_t MinimumImageBytes(const Ext4Content& content) {
  // Content inode tables, allocation metadata (bitmaps, descriptors,
  // reserved GDT blocks, lost+found, orphan file) and extent trees.
  uint64_t base = content.data_bytes + content.data_bytes / 50 +
                  (content.inodes + content.inodes / 5 + 1024) * kInodeSize + 16 * kMiB;
  // The journal and the default inode tables grow with the image itself.
  uint64_t size = base;
  for (int i = 0; i < 4; ++i) {
    uint64_t next = base + JournalBytes(size) + (size / kBytesPerInode) * kInodeSize;
    if (next <= size) break;
    size = next;
  }
  return RoundUp(size, kMiB);
}

uint64_t DefaultImageBytes(const Ext4Content& content) {
  uint64_t min = MinimumImageBytes(content);
  uint64_t room = std::max<uint64_t>(512 * kMiB, min / 2);
  return RoundUp(min + room, kMiB);
}

uint64_t InodeCount(const Ext4Content& content, uint64_t image_bytes) {
  return std::max<uint64_t>(image_bytes / kBytesPerInode,
                            content.inodes + content.inodes / 5 + 1024);
}

Result<uint64_t> ChooseImageSize(const Ext4Content& content,
                                 std::optional<uint64_t> requested,
                                 std::string_view what) {
  if (!requested) return DefaultImageBytes(content);
  uint64_t min = MinimumImageBytes(content);
  if (*requested < min) {
    return Error(Code::kInvalidArgument,
                 std::string(what) + ": content needs at least " + MiB(min) + " (" +
                     MiB(content.apparent_bytes) + " of files, " +
                     std::to_string(content.inodes) + " inodes) but size is " +
                     MiB(*requested));
  }
  return RoundUp(*requested, kBlock);
}

Status BuildExt4(const image::RootfsTree& tree, uint64_t size_bytes,
                 const std::string& out_path, CommandRunner& runner,
                 const std::string& label) {
  BANGER_ASSIGN_OR_RETURN(auto items, image::CollectStagedItems(tree));
  BANGER_ASSIGN_OR_RETURN(Ext4Content content, MeasureTree(tree));
  uint64_t min = MinimumImageBytes(content);
  if (size_bytes < min) {
    return Error(Code::kInvalidArgument,
                 "build " + Quote(out_path) + ": content needs at least " + MiB(min) +
                     " but the image is " + MiB(size_bytes));
  }

  // Value files for ea_set live until debugfs has run.
  BANGER_ASSIGN_OR_RETURN(TempDir values, TempDir::Create(HostTempParent(), "banger-xattr-"));
  size_t value_count = 0;
  DebugfsScript script;
  auto add_xattrs = [&](const std::string& path, const image::EntryMeta& meta) -> Status {
    for (const auto& [name, value] : meta.xattrs) {
      std::string file = JoinPath(values.path(), std::to_string(value_count++));
      BANGER_RETURN_IF_ERROR(AtomicWriteFile(file, value, 0600));
      script.SetXattrFromFile(path, name, file);
    }
    return OkStatus();
  };

  image::EntryMeta root_meta;
  root_meta.mode = S_IFDIR | 0755;
  if (const auto* m = tree.Find("")) root_meta = *m;
  script.SetOwnerAndMode("/", root_meta.uid, root_meta.gid, S_IFDIR | (root_meta.mode & 07777));
  BANGER_RETURN_IF_ERROR(add_xattrs("/", root_meta));

  for (const auto& [rel, item] : items) {
    std::string path = image::ImagePath(rel);
    const image::EntryMeta& meta = item.meta;
    bool special = image::IsSpecialNode(meta.mode);
    if (!item.staged) {
      script.MakeNode(path, meta.mode, meta.rdev, meta.uid, meta.gid);
    } else if ((item.st.st_mode & S_IFMT) != (meta.mode & S_IFMT)) {
      if (!special || S_ISDIR(item.st.st_mode)) {
        return Error(Code::kCorruption, "build " + Quote(out_path) + ": " + Quote(path) +
                                            " is staged as a different file type than its metadata says");
      }
      script.Remove(path);  // a placeholder for a node staging could not hold
      script.MakeNode(path, meta.mode, meta.rdev, meta.uid, meta.gid);
    } else {
      script.SetOwnerAndMode(path, meta.uid, meta.gid, meta.mode);
    }
    BANGER_RETURN_IF_ERROR(add_xattrs(path, meta));
  }

  // A failed build must not leave a half-made image behind.
  struct OutputGuard {
    const std::string& path;
    bool keep = false;
    ~OutputGuard() {
      if (!keep) unlink(path.c_str());
    }
  } guard{out_path};
  if (unlink(out_path.c_str()) != 0 && errno != ENOENT) {
    return Error::FromErrno("replace " + Quote(out_path));
  }

  ExecRequest mkfs;
  mkfs.argv = {"mkfs.ext4", "-q", "-F", "-m", "0",
               "-N", std::to_string(InodeCount(content, size_bytes)),
               "-E", "root_owner=0:0", "-d", tree.root()};
  if (!label.empty()) mkfs.argv.insert(mkfs.argv.end(), {"-L", label});
  mkfs.argv.push_back(out_path);
  mkfs.argv.push_back(std::to_string(size_bytes / 1024) + "k");
  mkfs.timeout = std::chrono::minutes(30);
  auto made = RunChecked(runner, mkfs);
  if (!made.ok()) return std::move(made).error().WithContext("build " + Quote(out_path));

  Debugfs debugfs(out_path, runner);
  auto applied = debugfs.Run(script, /*writable=*/true);
  if (!applied.ok()) {
    return std::move(applied).error().WithContext("set owners and modes in " + Quote(out_path));
  }
  guard.keep = true;
  return OkStatus();
}

}  // namespace banger::disk
