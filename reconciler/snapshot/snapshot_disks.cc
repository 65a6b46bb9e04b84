#include "reconciler/snapshot/snapshot_disks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "reconciler/disk/cow.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"
#include "reconciler/snapshot/snapshot_dir.h"

namespace banger::snapshot {
namespace {

uint64_t BigEndian(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Result<std::string> Qcow2BackingFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno("open " + Quote(path));
  // qcow2 header: magic "QFI\xfb", version, backing_file_offset (u64 BE at
  // 8), backing_file_size (u32 BE at 16).
  unsigned char header[20];
  if (pread(fd.get(), header, sizeof header, 0) != static_cast<ssize_t>(sizeof header) ||
      std::memcmp(header, "QFI\xfb", 4) != 0) {
    return Error(Code::kCorruption, Quote(path) + " is not a qcow2 image");
  }
  const uint64_t offset = BigEndian(header + 8, 8);
  const uint64_t size = BigEndian(header + 16, 4);
  if (offset == 0 || size == 0) return std::string();
  if (size > 1023) return Error(Code::kCorruption, Quote(path) + ": backing file name too long");
  std::string name(size, '\0');
  if (pread(fd.get(), name.data(), size, static_cast<off_t>(offset)) != static_cast<ssize_t>(size))
    return Error(Code::kCorruption, Quote(path) + ": backing file name cut short");
  return name;
}

Result<model::SnapshotDisk> CopyDisk(const std::string& src, const std::string& id,
                                     const std::string& format, const std::string& dir,
                                     const std::string& file) {
  const std::string dst = JoinPath(dir, file);
  const std::string what = "copy disk " + Quote(src) + " into the snapshot";
  model::SnapshotDisk d;
  d.id = id;
  d.file = file;
  d.format = format;
  if (format == "qcow2") {
    auto backing = Qcow2BackingFile(src);
    if (!backing.ok()) return std::move(backing).error().WithContext(what);
    d.backing = *backing;
  }
  BANGER_ASSIGN_OR_RETURN(disk::SourceFile in, disk::OpenSourceFile(src));
  UniqueFd out(open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out.valid()) return Error::FromErrno(what + ": create " + Quote(dst));
  auto kind = disk::CloneOrCopyFile(in.fd.get(), out.get(), src, dst);
  if (!kind.ok()) return std::move(kind).error().WithContext(what);
  if (fsync(out.get()) != 0) return Error::FromErrno(what + ": flush " + Quote(dst));
  d.copy_method = *kind == disk::CloneKind::kReflink ? "reflink" : "copy";
  BANGER_ASSIGN_OR_RETURN(SpaceUsage usage, MeasureFile(dst));
  d.size_bytes = usage.apparent;
  d.allocated_bytes = usage.allocated;
  return d;
}

Result<std::string> MakeDiskFromSnapshot(const model::SnapshotDisk& d,
                                         const std::string& snapshot_dir,
                                         disk::StagedFile& out, CommandRunner& runner) {
  const std::string copy = JoinPath(snapshot_dir, d.file);
  const std::string what = "make disk " + Quote(out.final_path()) + " from snapshot disk " + Quote(copy);
  if (d.format == "qcow2") {
    ExecRequest req;
    req.argv = disk::Qcow2OverlayArgv(copy, out.path(), "qcow2");
    req.timeout = std::chrono::minutes(1);
    auto made = RunChecked(runner, req);
    if (!made.ok()) return std::move(made).error().WithContext(what);
    return std::string("qcow2");
  }
  BANGER_ASSIGN_OR_RETURN(disk::SourceFile in, disk::OpenSourceFile(copy));
  auto kind = disk::CloneOrCopyFile(in.fd.get(), out.fd(), copy, out.final_path());
  if (!kind.ok()) return std::move(kind).error().WithContext(what);
  return std::string("raw");
}

Status CheckDiskFiles(const model::SnapshotDisk& d, const std::string& snapshot_dir) {
  const std::string copy = JoinPath(snapshot_dir, d.file);
  if (!PathExists(copy))
    return Error(Code::kNotFound, "snapshot disk " + Quote(copy) + " is missing");
  if (!d.backing.empty() && !PathExists(d.backing)) {
    return Error(Code::kNotFound, "snapshot disk " + Quote(copy) + " is backed by " +
                                      Quote(d.backing) + ", which is gone (its image was removed)");
  }
  return OkStatus();
}

bool SnapshotFilesPresent(const model::SnapshotRecord& record) {
  const model::SnapshotMeta& m = record.meta;
  if (record.dir.empty() || !PathExists(JoinPath(record.dir, m.state_file))) return false;
  if (!m.memory_file.empty() && !PathExists(JoinPath(record.dir, m.memory_file))) return false;
  for (const auto& d : m.disks)
    if (!CheckDiskFiles(d, record.dir).ok()) return false;
  return true;
}

}  // namespace banger::snapshot
