// Disk image files: building them under a temporary name, and copying
// them without paying for what they do not contain.
//
// Disk images take seconds to minutes to make (copies, qemu-img, e2fsck,
// resize2fs) and any step can fail or be interrupted. Building them as
// "<dir>/.<name>.partial-XXXXXX" and renaming only when complete means the
// final name holds either nothing, the previous disk, or a finished one:
// never a half-made disk that a later run would mistake for a real one.
//
// A raw disk image is mostly holes (an 8 GiB work disk may hold 50 MB).
// Reflink shares the extents outright; otherwise a sparse copy moves only
// the data ranges found with SEEK_DATA/SEEK_HOLE, so the copy keeps its
// holes and costs time proportional to the data, not the image size.
#pragma once

#include <string>

#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::disk {

// The mkostemp template for final_path: "<dir>/.<base>.partial-XXXXXX".
// Dot-prefixed so directory listings of VM state skip it.
std::string StagingTemplate(const std::string& final_path);

class StagedFile {
 public:
  enum class Replace {
    kNever,    // Commit fails with kAlreadyExists when final_path exists
    kAllowed,  // Commit atomically replaces an existing final_path
  };

  // Creates an empty temporary file (mode 0600: VM disks are private to
  // their owner) in the directory of final_path, open read-write.
  static Result<StagedFile> Create(const std::string& final_path);

  StagedFile() = default;
  ~StagedFile();  // unlinks the temporary file unless committed
  StagedFile(StagedFile&& other) noexcept;
  StagedFile& operator=(StagedFile&& other) noexcept;
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  const std::string& path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }
  // The open temporary file; -1 after Commit.
  int fd() const { return fd_.get(); }

  // Flushes the file to disk (through a fresh fd, so content written by a
  // child process such as qemu-img is covered), renames it to final_path
  // and flushes the directory. After success the owner no longer removes
  // anything; after failure the temporary file is still removed by it.
  Status Commit(Replace replace);

 private:
  StagedFile(std::string temp_path, std::string final_path, UniqueFd fd)
      : temp_path_(std::move(temp_path)),
        final_path_(std::move(final_path)),
        fd_(std::move(fd)) {}
  void Discard();

  std::string temp_path_;   // empty once committed or discarded
  std::string final_path_;
  UniqueFd fd_;
};

// A file opened for use as a copy source, with its name for messages.
struct SourceFile {
  std::string path;
  UniqueFd fd;
};

// Opens a regular file read-only (O_CLOEXEC); NotFound when missing,
// InvalidArgument when it is not a regular file.
Result<SourceFile> OpenSourceFile(const std::string& path);

// Whether an errno from FICLONE means "these files cannot share extents"
// (filesystem without reflink, different filesystems, unsupported file)
// rather than a real I/O failure.
bool IsReflinkUnsupported(int err);

// Makes dst_fd share all of src_fd's extents (ioctl FICLONE). Errors keep
// the errno, so callers can test IsReflinkUnsupported(error.sys_errno()).
Status ReflinkFile(int src_fd, int dst_fd, const std::string& src_name,
                   const std::string& dst_name);

// Copies src_fd into the empty dst_fd, preserving holes: dst_fd gets src's
// size and only src's data ranges are written, with copy_file_range when
// the kernel allows it between the two files and pread/pwrite otherwise.
Status SparseCopyFile(int src_fd, int dst_fd, const std::string& src_name,
                      const std::string& dst_name);

enum class CloneKind { kReflink, kSparseCopy };

// Reflinks when the filesystem can, else falls back to a sparse copy.
// Returns which one happened.
Result<CloneKind> CloneOrCopyFile(int src_fd, int dst_fd, const std::string& src_name,
                                  const std::string& dst_name);

}  // namespace banger::disk
