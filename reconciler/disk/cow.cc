#include "reconciler/disk/cow.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "reconciler/disk/disk_file.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"

namespace banger::disk {

std::string_view CowMethodName(CowMethod method) {
  switch (method) {
    case CowMethod::kQcow2: return "qcow2";
    case CowMethod::kReflink: return "reflink";
    case CowMethod::kDmSnapshot: return "dm-snapshot";
    case CowMethod::kCopy: return "copy";
  }
  return "unknown";
}

Result<CowMethod> ParseCowMethod(std::string_view name) {
  for (CowMethod m : {CowMethod::kQcow2, CowMethod::kReflink,
                      CowMethod::kDmSnapshot, CowMethod::kCopy}) {
    if (CowMethodName(m) == name) return m;
  }
  return InvalidArgument("unknown copy-on-write method " + Quote(name) +
                         " (expected qcow2, reflink, dm-snapshot or copy)");
}

Result<CowMethod> ChooseCowMethod(std::string_view vmm_name,
                                  const CowProbe& probe, bool dm_available) {
  if (vmm_name == "qemu") return CowMethod::kQcow2;
  if (vmm_name == "firecracker") {
    if (probe.reflink) return CowMethod::kReflink;
    if (dm_available) return CowMethod::kDmSnapshot;
    return CowMethod::kCopy;
  }
  return InvalidArgument("choose copy-on-write method: unknown VMM " +
                         Quote(vmm_name) + " (expected qemu or firecracker)");
}

std::string_view DriveFormat(CowMethod method) {
  return method == CowMethod::kQcow2 ? "qcow2" : "raw";
}

std::string DescribeCowMethod(CowMethod method, const CowProbe& probe) {
  switch (method) {
    case CowMethod::kQcow2: return "qcow2 overlay";
    case CowMethod::kReflink:
      return probe.fs_type.empty() ? "reflink" : "reflink (" + probe.fs_type + ")";
    case CowMethod::kDmSnapshot: return "dm-snapshot";
    case CowMethod::kCopy: return "sparse copy";
  }
  return "unknown";
}

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

namespace {

Result<std::string> CanonicalPath(const std::string& path) {
  std::unique_ptr<char, decltype(&free)> resolved(realpath(path.c_str(), nullptr), &free);
  if (!resolved) return Error::FromErrno("resolve " + Quote(path));
  return std::string(resolved.get());
}

Status CreateQcow2Overlay(const std::string& base, StagedFile& staged,
                          CommandRunner& runner) {
  BANGER_ASSIGN_OR_RETURN(std::string abs_base, CanonicalPath(base));
  // Opening it checks that it is a readable regular file before qemu-img
  // records it as the backing file.
  BANGER_ASSIGN_OR_RETURN(SourceFile src, OpenSourceFile(abs_base));
  ExecRequest req;
  req.argv = Qcow2OverlayArgv(abs_base, staged.path());
  req.timeout = std::chrono::minutes(1);
  BANGER_RETURN_IF_ERROR(RunChecked(runner, req));
  return OkStatus();
}

Status CreateReflink(const std::string& base, StagedFile& staged) {
  BANGER_ASSIGN_OR_RETURN(SourceFile src, OpenSourceFile(base));
  Status st = ReflinkFile(src.fd.get(), staged.fd(), base, staged.final_path());
  if (!st.ok() && IsReflinkUnsupported(st.error().sys_errno())) {
    return Error(Code::kFailedPrecondition,
                 st.error().message() + " (the filesystem cannot share extents "
                 "between these files; use the copy method)",
                 st.error().sys_errno());
  }
  return st;
}

Status CreateCopy(const std::string& base, StagedFile& staged) {
  BANGER_ASSIGN_OR_RETURN(SourceFile src, OpenSourceFile(base));
  return SparseCopyFile(src.fd.get(), staged.fd(), base, staged.final_path());
}

}  // namespace

std::vector<std::string> Qcow2OverlayArgv(const std::string& base,
                                          const std::string& dest) {
  return {"qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", dest};
}

Status CreateCowRootfs(CowMethod method, const std::string& base, const std::string& dest,
                       CommandRunner& runner) {
  const std::string context = "create " + std::string(CowMethodName(method)) +
                              " rootfs " + Quote(dest) + " from " + Quote(base);
  if (method == CowMethod::kDmSnapshot) {
    return InvalidArgument(context + ": dm-snapshot devices are made by the root helper");
  }
  // Checked up front for a clear message; the no-replace rename below is
  // what actually guarantees an existing disk is never overwritten.
  if (PathExists(dest)) {
    return Error(Code::kAlreadyExists, context + ": destination already exists");
  }
  auto staged = StagedFile::Create(dest);
  if (!staged.ok()) return std::move(staged).error().WithContext(context);

  Status made = OkStatus();
  switch (method) {
    case CowMethod::kQcow2: made = CreateQcow2Overlay(base, *staged, runner); break;
    case CowMethod::kReflink: made = CreateReflink(base, *staged); break;
    case CowMethod::kCopy: made = CreateCopy(base, *staged); break;
    case CowMethod::kDmSnapshot: break;  // refused above
  }
  if (!made.ok()) return std::move(made).error().WithContext(context);
  Status committed = staged->Commit(StagedFile::Replace::kNever);
  if (!committed.ok()) return std::move(committed).error().WithContext(context);
  return OkStatus();
}

}  // namespace banger::disk
