#include "reconciler/disk/disk_file.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "reconciler/os/fs.h"

namespace banger::disk {

std::string StagingTemplate(const std::string& final_path) {
  return JoinPath(Dirname(final_path), "." + Basename(final_path) + ".partial-XXXXXX");
}

Result<StagedFile> StagedFile::Create(const std::string& final_path) {
  if (final_path.empty() || Basename(final_path).empty())
    return InvalidArgument("stage disk file: empty destination path");
  std::string templ = StagingTemplate(final_path);
  int fd = mkostemp(templ.data(), O_CLOEXEC);
  if (fd < 0)
    return Error::FromErrno("create temporary file for " + Quote(final_path));
  return StagedFile(std::move(templ), final_path, UniqueFd(fd));
}

StagedFile::~StagedFile() { Discard(); }

StagedFile::StagedFile(StagedFile&& other) noexcept
    : temp_path_(std::exchange(other.temp_path_, std::string())),
      final_path_(std::move(other.final_path_)),
      fd_(std::move(other.fd_)) {}

StagedFile& StagedFile::operator=(StagedFile&& other) noexcept {
  if (this != &other) {
    Discard();
    temp_path_ = std::exchange(other.temp_path_, std::string());
    final_path_ = std::move(other.final_path_);
    fd_ = std::move(other.fd_);
  }
  return *this;
}

void StagedFile::Discard() {
  fd_.Reset();
  if (!temp_path_.empty()) {
    (void)unlink(temp_path_.c_str());
    temp_path_.clear();
  }
}

Status StagedFile::Commit(Replace replace) {
  if (temp_path_.empty()) return Internal("commit " + Quote(final_path_) + ": nothing staged");
  {
    UniqueFd sync_fd(open(temp_path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!sync_fd.valid()) return Error::FromErrno("open " + Quote(temp_path_));
    if (fsync(sync_fd.get()) != 0) return Error::FromErrno("fsync " + Quote(temp_path_));
  }
  if (replace == Replace::kNever) {
    BANGER_RETURN_IF_ERROR(RenameNoReplace(temp_path_, final_path_));
  } else if (rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    return Error::FromErrno("rename " + Quote(temp_path_) + " to " + Quote(final_path_));
  }
  temp_path_.clear();
  fd_.Reset();
  return SyncDir(Dirname(final_path_));
}

namespace {

constexpr size_t kCopyChunk = 1u << 20;
// copy_file_range moves at most this much per call; asking for more is
// harmless but keeps each call interruptible.
constexpr size_t kCopyRangeMax = 64u << 20;

std::string Pair(const std::string& src, const std::string& dst) {
  return Quote(src) + " to " + Quote(dst);
}

// Errors after which copy_file_range will not work for this pair of files
// at all (cross-filesystem, unsupported filesystem, old kernel), so the
// plain read/write loop takes over.
bool CopyRangeUnsupported(int err) {
  return err == EXDEV || err == ENOSYS || err == EOPNOTSUPP || err == EINVAL;
}

Status PreadPwrite(int src_fd, int dst_fd, off_t offset, off_t length,
                   const std::string& src_name, const std::string& dst_name) {
  std::vector<char> buf(kCopyChunk);
  while (length > 0) {
    size_t want = static_cast<size_t>(std::min<off_t>(length, static_cast<off_t>(buf.size())));
    ssize_t n = pread(src_fd, buf.data(), want, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("read " + Quote(src_name));
    }
    if (n == 0) return Error(Code::kCorruption, "copy " + Pair(src_name, dst_name) +
                                                    ": source shrank during the copy");
    for (ssize_t done = 0; done < n;) {
      ssize_t w = pwrite(dst_fd, buf.data() + done, n - done, offset + done);
      if (w < 0) {
        if (errno == EINTR) continue;
        return Error::FromErrno("write " + Quote(dst_name));
      }
      done += w;
    }
    offset += n;
    length -= n;
  }
  return OkStatus();
}

// Copies one data range; clears *use_copy_range when the kernel refuses
// copy_file_range for this pair so later ranges skip straight to pread.
Status CopyRange(int src_fd, int dst_fd, off_t offset, off_t length, bool* use_copy_range,
                 const std::string& src_name, const std::string& dst_name) {
  while (length > 0 && *use_copy_range) {
    loff_t in = offset, out = offset;
    size_t want = static_cast<size_t>(std::min<off_t>(length, kCopyRangeMax));
    ssize_t n = copy_file_range(src_fd, &in, dst_fd, &out, want, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (CopyRangeUnsupported(errno)) {
        *use_copy_range = false;
        break;
      }
      return Error::FromErrno("copy " + Pair(src_name, dst_name));
    }
    if (n == 0) return Error(Code::kCorruption, "copy " + Pair(src_name, dst_name) +
                                                    ": source shrank during the copy");
    offset += n;
    length -= n;
  }
  if (length == 0) return OkStatus();
  return PreadPwrite(src_fd, dst_fd, offset, length, src_name, dst_name);
}

}  // namespace

Result<SourceFile> OpenSourceFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno("open " + Quote(path));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Error::FromErrno("stat " + Quote(path));
  if (!S_ISREG(st.st_mode)) return InvalidArgument(Quote(path) + " is not a regular file");
  return SourceFile{path, std::move(fd)};
}

bool IsReflinkUnsupported(int err) {
  return err == EOPNOTSUPP || err == EXDEV || err == EINVAL || err == ENOTTY ||
         err == ENOSYS;
}

Status ReflinkFile(int src_fd, int dst_fd, const std::string& src_name,
                   const std::string& dst_name) {
  if (ioctl(dst_fd, FICLONE, src_fd) != 0)
    return Error::FromErrno("reflink " + Pair(src_name, dst_name));
  return OkStatus();
}

Status SparseCopyFile(int src_fd, int dst_fd, const std::string& src_name,
                      const std::string& dst_name) {
  struct stat st;
  if (fstat(src_fd, &st) != 0) return Error::FromErrno("stat " + Quote(src_name));
  const off_t size = st.st_size;
  // Setting the size first leaves every range not written below a hole.
  if (ftruncate(dst_fd, size) != 0)
    return Error::FromErrno("set size of " + Quote(dst_name));

  bool use_copy_range = true;
  off_t offset = 0;
  while (offset < size) {
    off_t data = lseek(src_fd, offset, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole remains
      return Error::FromErrno("find data in " + Quote(src_name));
    }
    off_t hole = lseek(src_fd, data, SEEK_HOLE);
    if (hole < 0) return Error::FromErrno("find hole in " + Quote(src_name));
    hole = std::min(hole, size);
    BANGER_RETURN_IF_ERROR(CopyRange(src_fd, dst_fd, data, hole - data, &use_copy_range,
                                     src_name, dst_name));
    offset = hole;
  }
  return OkStatus();
}

Result<CloneKind> CloneOrCopyFile(int src_fd, int dst_fd, const std::string& src_name,
                                  const std::string& dst_name) {
  Status reflinked = ReflinkFile(src_fd, dst_fd, src_name, dst_name);
  if (reflinked.ok()) return CloneKind::kReflink;
  if (!IsReflinkUnsupported(reflinked.error().sys_errno())) return std::move(reflinked).error();
  BANGER_RETURN_IF_ERROR(SparseCopyFile(src_fd, dst_fd, src_name, dst_name));
  return CloneKind::kSparseCopy;
}

}  // namespace banger::disk
