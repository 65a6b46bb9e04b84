#include "reconciler/kernel/kernel_bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "reconciler/os/cancel.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"

namespace banger::kernel {
namespace {

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

std::string ArchiveError(struct archive* a) {
  const char* e = archive_error_string(a);
  return e ? e : "unknown libarchive error";
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(start, slash - start);
    if (!part.empty() && part != ".") parts.push_back(part);
    start = slash + 1;
  }
  return parts;
}

// Opens the directory `parts[0..n)` below root, creating missing ones (tar
// archives need not list parent directories) and refusing to pass through
// symlinks (O_NOFOLLOW on every step).
Result<UniqueFd> OpenParent(int root_fd, const std::vector<std::string>& parts, size_t n,
                            const std::string& shown) {
  UniqueFd dir(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!dir.valid()) return Error::FromErrno("dup");
  for (size_t i = 0; i < n; ++i) {
    const char* name = parts[i].c_str();
    if (::mkdirat(dir.get(), name, 0755) != 0 && errno != EEXIST) {
      return Error::FromErrno("entry " + Quote(shown) + ": create parent " + Quote(parts[i]));
    }
    UniqueFd next(::openat(dir.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) {
      if (errno == ELOOP || errno == ENOTDIR) {
        return Error(Code::kCorruption,
                     "entry " + Quote(shown) + " passes through a symlink or file " +
                         Quote(parts[i]));
      }
      return Error::FromErrno("entry " + Quote(shown) + ": open parent " + Quote(parts[i]));
    }
    dir = std::move(next);
  }
  return dir;
}

Status WriteEntryData(struct archive* a, int fd, const std::string& shown, uint64_t& total,
                      uint64_t max_bytes) {
  const void* buf;
  size_t size;
  la_int64_t offset;
  for (;;) {
    int r = archive_read_data_block(a, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) return OkStatus();
    if (r != ARCHIVE_OK) {
      return Error(Code::kCorruption, "entry " + Quote(shown) + ": " + ArchiveError(a));
    }
    total += size;
    if (total > max_bytes) {
      return Error(Code::kCorruption,
                   "bundle exceeds " + std::to_string(max_bytes) + " bytes of file data");
    }
    if (::pwrite(fd, buf, size, offset) != static_cast<ssize_t>(size)) {
      return Error::FromErrno("entry " + Quote(shown) + ": write");
    }
  }
}

// A top-level file banger reads: absent (""), or a regular file. A link
// is refused: resolving it would read whatever it points at on the host.
Result<std::string> BootFile(const std::string& dest_dir, const char* name,
                             const std::string& what) {
  const std::string p = JoinPath(dest_dir, name);
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::string();
    return Error::FromErrno(what + ": stat " + Quote(name));
  }
  if (S_ISLNK(st.st_mode)) {
    return Error(Code::kCorruption, what + ": " + Quote(name) +
                                        " is a symlink; boot files must be regular files");
  }
  if (!S_ISREG(st.st_mode)) {
    return Error(Code::kCorruption, what + ": " + Quote(name) + " is not a regular file");
  }
  return p;
}

}  // namespace

Result<KernelBundle> ExtractKernelBundle(const std::string& archive, const std::string& dest_dir,
                                         const BundleLimits& limits) {
  const std::string what = "kernel bundle " + Quote(archive);
  UniqueFd root(::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return Error::FromErrno("open " + Quote(dest_dir));
  UniqueFd in(::open(archive.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return Error::FromErrno("open " + Quote(archive));
  std::unique_ptr<struct archive, ReadDeleter> a(archive_read_new());
  if (!a) return Internal(what + ": archive_read_new failed");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_fd(a.get(), in.get(), 1 << 16) != ARCHIVE_OK) {
    return Error(Code::kCorruption, what + ": " + ArchiveError(a.get()));
  }
  uint64_t entries = 0, bytes = 0;
  struct archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return Error(Code::kCorruption, what + ": " + ArchiveError(a.get()));
    }
    BANGER_RETURN_IF_ERROR(CheckCancelled(what));
    if (++entries > limits.max_entries) {
      return Error(Code::kCorruption,
                   what + ": more than " + std::to_string(limits.max_entries) + " entries");
    }
    const std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    if (name.empty() || name[0] == '/') {
      return Error(Code::kCorruption, what + ": absolute or empty path " + Quote(name));
    }
    std::vector<std::string> parts = SplitPath(name);
    for (const auto& p : parts) {
      if (p == "..") return Error(Code::kCorruption, what + ": path " + Quote(name) + " contains '..'");
    }
    if (parts.empty()) continue;  // "./" itself
    if (archive_entry_hardlink(e)) {
      return Error(Code::kCorruption, what + ": hard link " + Quote(name) + " not allowed");
    }
    auto parent = OpenParent(root.get(), parts, parts.size() - 1, name);
    if (!parent.ok()) return parent.error().WithContext(what);
    const char* leaf = parts.back().c_str();
    const mode_t type = archive_entry_filetype(e);
    if (type == AE_IFDIR) {
      if (::mkdirat(parent->get(), leaf, 0755) != 0 && errno != EEXIST) {
        return Error::FromErrno(what + ": mkdir " + Quote(name));
      }
      struct stat st;
      if (::fstatat(parent->get(), leaf, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
        return Error(Code::kCorruption, what + ": directory " + Quote(name) +
                                            " clashes with an earlier entry");
      }
    } else if (type == AE_IFREG) {
      UniqueFd fd(::openat(parent->get(), leaf,
                           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (!fd.valid()) {
        if (errno == EEXIST) return Error(Code::kCorruption, what + ": duplicate entry " + Quote(name));
        return Error::FromErrno(what + ": create " + Quote(name));
      }
      auto st = WriteEntryData(a.get(), fd.get(), name, bytes, limits.max_bytes);
      if (!st.ok()) return st.error().WithContext(what);
    } else if (type == AE_IFLNK) {
      const std::string target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
      // Stored verbatim and never followed (see the header), so the
      // target may be absolute or climb out; only an empty one is invalid.
      if (target.empty()) {
        return Error(Code::kCorruption, what + ": symlink " + Quote(name) + " has no target");
      }
      if (::symlinkat(target.c_str(), parent->get(), leaf) != 0) {
        if (errno == EEXIST) return Error(Code::kCorruption, what + ": duplicate entry " + Quote(name));
        return Error::FromErrno(what + ": symlink " + Quote(name));
      }
    } else {
      return Error(Code::kCorruption, what + ": entry " + Quote(name) +
                                          " is not a file, directory or symlink");
    }
  }

  KernelBundle out;
  for (const char* k : {"vmlinuz", "bzImage"}) {
    BANGER_ASSIGN_OR_RETURN(out.kernel, BootFile(dest_dir, k, what));
    if (!out.kernel.empty()) break;
  }
  if (out.kernel.empty()) {
    return Error(Code::kCorruption, what + ": no regular file 'vmlinuz' or 'bzImage' at the top");
  }
  BANGER_ASSIGN_OR_RETURN(out.initrd, BootFile(dest_dir, "initrd.img", what));
  BANGER_ASSIGN_OR_RETURN(out.vmlinux, BootFile(dest_dir, "vmlinux", what));
  struct stat st;
  if (std::string p = JoinPath(dest_dir, "modules"); ::lstat(p.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return Error(Code::kCorruption, what + ": 'modules' is not a directory (links are refused)");
    }
    out.modules_dir = p;
  }
  return out;
}

}  // namespace banger::kernel
