#include "reconciler/disk/fs_probe.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "reconciler/disk/disk_file.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"

namespace banger::disk {

namespace {

// Not in <linux/magic.h>: ZFS is out of tree, FUSE keeps its own.
constexpr unsigned long kZfsMagic = 0x2fc12fc1;
constexpr unsigned long kFuseMagic = 0x65735546;

// An anonymous file in `dir`: created and unlinked at once so it vanishes
// with its fd whatever happens next.
Result<UniqueFd> AnonymousFile(const std::string& dir) {
  std::string templ = JoinPath(dir, ".banger-reflink-probe-XXXXXX");
  UniqueFd fd(mkostemp(templ.data(), O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno("create probe file in " + Quote(dir));
  if (unlink(templ.c_str()) != 0) return Error::FromErrno("remove " + Quote(templ));
  return fd;
}

}  // namespace

std::string FilesystemName(long f_type) {
  switch (static_cast<unsigned long>(f_type)) {
    case XFS_SUPER_MAGIC: return "xfs";
    case BTRFS_SUPER_MAGIC: return "btrfs";
    case EXT4_SUPER_MAGIC: return "ext4";
    case TMPFS_MAGIC: return "tmpfs";
    case OVERLAYFS_SUPER_MAGIC: return "overlayfs";
    case F2FS_SUPER_MAGIC: return "f2fs";
    case kZfsMagic: return "zfs";
    case NFS_SUPER_MAGIC: return "nfs";
    case kFuseMagic: return "fuse";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(f_type));
  return buf;
}

Result<CowProbe> ProbeCowMethods(const std::string& dir) {
  struct statfs sfs;
  if (statfs(dir.c_str(), &sfs) != 0) return Error::FromErrno("statfs " + Quote(dir));
  CowProbe probe;
  probe.fs_type = FilesystemName(sfs.f_type);

  BANGER_ASSIGN_OR_RETURN(UniqueFd src, AnonymousFile(dir));
  BANGER_ASSIGN_OR_RETURN(UniqueFd dst, AnonymousFile(dir));
  // One filesystem block of data: cloning an empty file succeeds on some
  // filesystems without proving that extents can be shared.
  std::vector<char> block(sfs.f_bsize > 0 ? static_cast<size_t>(sfs.f_bsize) : 4096, 'b');
  if (pwrite(src.get(), block.data(), block.size(), 0) != static_cast<ssize_t>(block.size()))
    return Error::FromErrno("write probe file in " + Quote(dir));

  const std::string name = "probe file in " + dir;
  Status cloned = ReflinkFile(src.get(), dst.get(), name, name);
  if (cloned.ok()) {
    probe.reflink = true;
  } else if (!IsReflinkUnsupported(cloned.error().sys_errno())) {
    return std::move(cloned).error().WithContext("probe reflink in " + Quote(dir));
  }
  return probe;
}

}  // namespace banger::disk
