#include "reconciler/image/layer_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <vector>

#include "reconciler/os/cancel.h"
#include "reconciler/os/unique_fd.h"
#include "specs/loader.h"

namespace banger::image {

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr int kMaxSymlinkHops = 40;

using ArchivePtr = std::unique_ptr<archive, decltype(&archive_read_free)>;

// Names the [settings] key that raises the limit: whoever hits it is most
// likely building a big but legitimate image and needs to know the knob.
Error LimitExceeded(const std::string& what, std::string_view setting,
                    const std::string& limit) {
  const std::string key(setting);
  return InvalidArgument(what + " exceeds " + key + " (" + limit + "); raise " + key +
                         " in [settings] to unpack larger images");
}

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// Names in a directory fd (without "." and ".."); the fd stays open.
Result<std::vector<std::string>> ListChildren(int dirfd, const std::string& rel) {
  int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return Error::FromErrno("dup " + Quote(rel));
  DirPtr dir(fdopendir(dup_fd));
  if (!dir) {
    close(dup_fd);
    return Error::FromErrno("list " + Quote(rel));
  }
  // The duplicate shares the offset with dirfd, which may have been read.
  rewinddir(dir.get());
  std::vector<std::string> children;
  while (dirent* d = readdir(dir.get())) {
    std::string_view n = d->d_name;
    if (n != "." && n != "..") children.emplace_back(n);
  }
  return children;
}

// Linux device numbers have a 12-bit major and a 20-bit minor (what the
// kernel and ext4 store). Larger ones are refused rather than packed:
// archive_entry_rdev() would wrap them, and 4294967297:1 would become
// 1:1, /dev/mem.
constexpr uint64_t kMaxDevMajor = (1u << 12) - 1;
constexpr uint64_t kMaxDevMinor = (1u << 20) - 1;

Result<uint64_t> DeviceNumber(archive_entry* entry) {
  const uint64_t maj = archive_entry_rdevmajor(entry);
  const uint64_t min = archive_entry_rdevminor(entry);
  if (maj > kMaxDevMajor || min > kMaxDevMinor)
    return InvalidArgument("device number " + std::to_string(maj) + ":" + std::to_string(min) +
                           " out of range (major at most " + std::to_string(kMaxDevMajor) +
                           ", minor at most " + std::to_string(kMaxDevMinor) + ")");
  return static_cast<uint64_t>(makedev(maj, min));
}

std::string JoinRel(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// Splits an archive path into components. "./" prefixes and empty or "."
// components are dropped; absolute paths and ".." are refused outright, so
// no archive name can address anything above the root.
Result<std::vector<std::string>> SplitArchivePath(std::string_view raw) {
  if (!raw.empty() && raw.front() == '/')
    return InvalidArgument("absolute path " + Quote(raw) + " refused");
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('/', start);
    if (end == std::string_view::npos) end = raw.size();
    std::string_view part = raw.substr(start, end - start);
    if (part == "..") return InvalidArgument("path " + Quote(raw) + " contains '..'");
    if (!part.empty() && part != ".") parts.emplace_back(part);
    start = end + 1;
  }
  return parts;
}

// Removes `name` in `dirfd` and everything below it without following
// symlinks; a missing name is fine.
Status RemoveAt(int dirfd, const std::string& name, const std::string& rel) {
  struct stat st;
  if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return OkStatus();
    return Error::FromErrno("stat " + Quote(rel));
  }
  if (S_ISDIR(st.st_mode)) {
    UniqueFd fd(openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return Error::FromErrno("open " + Quote(rel));
    BANGER_ASSIGN_OR_RETURN(std::vector<std::string> children, ListChildren(fd.get(), rel));
    for (const auto& child : children)
      BANGER_RETURN_IF_ERROR(RemoveAt(fd.get(), child, JoinRel(rel, child)));
    if (unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
      return Error::FromErrno("remove " + Quote(rel));
    return OkStatus();
  }
  if (unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT)
    return Error::FromErrno("remove " + Quote(rel));
  return OkStatus();
}

// A directory inside the root, opened, with its real path relative to it.
struct ResolvedDir {
  UniqueFd fd;
  std::string rel;
};

enum class Missing { kFail, kCreate };
enum class Symlinks { kRefuse, kFollowInRoot };

// Applies one archive to the tree. Every file operation is relative to an
// fd opened with O_NOFOLLOW below the root fd, and symlinks met on the way
// are resolved by hand as if the root were "/" (the semantics of openat2's
// RESOLVE_IN_ROOT), so nothing outside the root is reachable by
// construction, whatever earlier entries or layers planted.
class Extractor {
 public:
  Extractor(std::string archive_path, RootfsTree& tree, const ExtractOptions& options,
            ExtractStats& stats)
      : archive_path_(std::move(archive_path)), tree_(tree), options_(options), stats_(stats) {}

  Status Run() {
    root_.Reset(open(tree_.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root_.valid()) return Error::FromErrno("open root " + Quote(tree_.root()));
    if (!tree_.Find("")) tree_.Set("", EntryMeta{0, 0, S_IFDIR | 0755, 0, {}});
    ArchivePtr a(archive_read_new(), &archive_read_free);
    if (!a) return Internal("archive_read_new failed");
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_filename(a.get(), archive_path_.c_str(), 1 << 16) != ARCHIVE_OK)
      return Error(Code::kCorruption, archive_error_string(a.get()) ? archive_error_string(a.get())
                                                                    : "cannot open archive");
    for (;;) {
      archive_entry* entry = nullptr;
      int r = archive_read_next_header(a.get(), &entry);
      if (r == ARCHIVE_EOF) break;
      // ARCHIVE_RETRY (a damaged header libarchive could skip) is an error
      // too: the entry it hands back is not one the archive holds.
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return ArchiveError(a.get(), "read header");
      BANGER_RETURN_IF_ERROR(CheckCancelled("unpack archive"));
      const char* raw = archive_entry_pathname(entry);
      std::string name = raw ? raw : "";
      if (++stats_.entries > options_.limits.max_entries)
        return LimitExceeded("the number of entries (files, directories, links)",
                             "image_max_files", std::to_string(options_.limits.max_entries));
      Status st = ApplyEntry(a.get(), entry, name);
      if (!st.ok()) return std::move(st).error().WithContext("entry " + Quote(name));
    }
    return OkStatus();
  }

 private:
  Error ArchiveError(archive* a, std::string_view what) {
    const char* msg = archive_error_string(a);
    return Error(Code::kCorruption, std::string(what) + ": " + (msg ? msg : "unknown error"));
  }

  // Marks a path (and its ancestors, which must survive an opaque marker in
  // this layer) as written by this archive.
  void MarkWritten(const std::string& rel) {
    std::string p = rel;
    while (!p.empty() && written_.insert(p).second) {
      size_t slash = p.rfind('/');
      p = slash == std::string::npos ? "" : p.substr(0, slash);
    }
  }

  Result<ResolvedDir> ResolveDir(const std::vector<std::string>& comps, Missing missing,
                                 Symlinks symlinks) {
    // Stack of open directories from the root down; ".." in a symlink
    // target pops, clamped at the root.
    std::vector<ResolvedDir> stack;
    auto current_fd = [&] { return stack.empty() ? root_.get() : stack.back().fd.get(); };
    auto current_rel = [&] { return stack.empty() ? std::string() : stack.back().rel; };
    std::vector<std::string> todo(comps.rbegin(), comps.rend());
    int hops = 0;
    while (!todo.empty()) {
      std::string c = std::move(todo.back());
      todo.pop_back();
      if (c.empty() || c == ".") continue;
      if (c == "..") {
        if (!stack.empty()) stack.pop_back();
        continue;
      }
      std::string rel = JoinRel(current_rel(), c);
      struct stat st;
      if (fstatat(current_fd(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT || missing == Missing::kFail)
          return Error::FromErrno("stat " + Quote(rel));
        if (mkdirat(current_fd(), c.c_str(), 0700) != 0)
          return Error::FromErrno("create directory " + Quote(rel));
        if (!tree_.Find(rel)) tree_.Set(rel, EntryMeta{0, 0, S_IFDIR | 0755, 0, {}});
        st.st_mode = S_IFDIR;
      }
      if (S_ISLNK(st.st_mode)) {
        if (symlinks == Symlinks::kRefuse)
          return InvalidArgument("path passes through symlink " + Quote(rel));
        if (++hops > kMaxSymlinkHops) return Error(Code::kInvalidArgument, "too many symlinks", ELOOP);
        char buf[PATH_MAX];
        ssize_t n = readlinkat(current_fd(), c.c_str(), buf, sizeof(buf) - 1);
        if (n < 0) return Error::FromErrno("read symlink " + Quote(rel));
        std::string_view target(buf, n);
        if (!target.empty() && target.front() == '/') stack.clear();
        size_t start = 0;
        std::vector<std::string> parts;
        while (start <= target.size()) {
          size_t end = target.find('/', start);
          if (end == std::string_view::npos) end = target.size();
          parts.emplace_back(target.substr(start, end - start));
          start = end + 1;
        }
        todo.insert(todo.end(), parts.rbegin(), parts.rend());
        continue;
      }
      if (!S_ISDIR(st.st_mode))
        return Error(Code::kInvalidArgument, Quote(rel) + " is not a directory", ENOTDIR);
      UniqueFd fd(openat(current_fd(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd.valid()) return Error::FromErrno("open directory " + Quote(rel));
      stack.push_back(ResolvedDir{std::move(fd), rel});
    }
    if (stack.empty()) {
      UniqueFd fd(fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
      if (!fd.valid()) return Error::FromErrno("dup root fd");
      return ResolvedDir{std::move(fd), ""};
    }
    return std::move(stack.back());
  }

  EntryMeta MetaOf(archive_entry* entry) {
    EntryMeta meta;
    meta.uid = static_cast<uint32_t>(archive_entry_uid(entry));
    meta.gid = static_cast<uint32_t>(archive_entry_gid(entry));
    meta.mode = archive_entry_mode(entry);
    archive_entry_xattr_reset(entry);
    const char* xname;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(entry, &xname, &value, &size) == ARCHIVE_OK)
      meta.xattrs[xname] = std::string(static_cast<const char*>(value), size);
    return meta;
  }

  Status ApplyWhiteout(const std::vector<std::string>& comps, const std::string& base) {
    std::vector<std::string> parents(comps.begin(), comps.end() - 1);
    auto dir = ResolveDir(parents, Missing::kFail, Symlinks::kRefuse);
    if (!dir.ok()) {
      // Nothing below a missing directory to hide.
      int err = dir.error().sys_errno();
      if (err == ENOENT || err == ENOTDIR) return OkStatus();
      return std::move(dir).error().WithContext("whiteout");
    }
    if (base == kOpaqueMarker) return RemoveLowerChildren(dir->fd.get(), dir->rel);
    std::string target = base.substr(kWhiteoutPrefix.size());
    // ".wh..wh.*" other than the opaque marker is AUFS bookkeeping.
    if (target.rfind(kWhiteoutPrefix, 0) == 0) return OkStatus();
    if (target.empty() || target == "." || target == "..")
      return InvalidArgument("whiteout names no file");
    std::string rel = JoinRel(dir->rel, target);
    // A whiteout hides lower layers only; this layer's own file stays.
    if (written_.count(rel)) return OkStatus();
    BANGER_RETURN_IF_ERROR(RemoveAt(dir->fd.get(), target, rel));
    tree_.Erase(rel);
    return OkStatus();
  }

  // An opaque directory keeps only what this layer put into it.
  Status RemoveLowerChildren(int dirfd, const std::string& rel) {
    BANGER_ASSIGN_OR_RETURN(std::vector<std::string> children, ListChildren(dirfd, rel));
    for (const auto& child : children) {
      std::string crel = JoinRel(rel, child);
      if (!written_.count(crel)) {
        BANGER_RETURN_IF_ERROR(RemoveAt(dirfd, child, crel));
        tree_.Erase(crel);
        continue;
      }
      struct stat st;
      if (fstatat(dirfd, child.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
        UniqueFd sub(openat(dirfd, child.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub.valid()) return Error::FromErrno("open " + Quote(crel));
        BANGER_RETURN_IF_ERROR(RemoveLowerChildren(sub.get(), crel));
      }
    }
    return OkStatus();
  }

  Status WriteFile(archive* a, archive_entry* entry, int dirfd, const std::string& name,
                   const std::string& rel) {
    int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
    const uint64_t limit = options_.limits.max_total_bytes;
    if (size < 0) return Error(Code::kCorruption, "negative size " + std::to_string(size));
    if (static_cast<uint64_t>(size) > limit - std::min(limit, stats_.bytes))
      return LimitExceeded("the unpacked size (" + std::to_string(size) + " bytes for this file, " +
                               std::to_string(stats_.bytes) + " before it)",
                           "image_max_size", specs::FormatSize(limit));
    UniqueFd fd(openat(dirfd, name.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) return Error::FromErrno("create " + Quote(rel));
    for (;;) {
      const void* buf;
      size_t len;
      la_int64_t offset;
      int r = archive_read_data_block(a, &buf, &len, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return ArchiveError(a, "read data");
      if (offset < 0 || static_cast<uint64_t>(offset) + len > static_cast<uint64_t>(size))
        return Error(Code::kCorruption, "data beyond the declared size");
      const char* p = static_cast<const char*>(buf);
      while (len > 0) {
        ssize_t n = pwrite(fd.get(), p, len, offset);
        if (n < 0) {
          if (errno == EINTR) continue;
          return Error::FromErrno("write " + Quote(rel));
        }
        p += n;
        len -= n;
        offset += n;
      }
    }
    // Sparse tails and holes: the logical size comes from the header.
    if (ftruncate(fd.get(), size) != 0) return Error::FromErrno("truncate " + Quote(rel));
    stats_.bytes += size;
    mode_t perm = (archive_entry_perm(entry) & 0111) ? 0700 : 0600;
    if (fchmod(fd.get(), perm) != 0) return Error::FromErrno("chmod " + Quote(rel));
    struct timespec times[2] = {{0, UTIME_OMIT},
                                {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)}};
    (void)futimens(fd.get(), times);  // mtimes are informative; a failure is not fatal
    return OkStatus();
  }

  Status ApplyEntry(archive* a, archive_entry* entry, const std::string& raw) {
    BANGER_ASSIGN_OR_RETURN(std::vector<std::string> comps, SplitArchivePath(raw));
    const mode_t type = archive_entry_filetype(entry);
    const char* hardlink = archive_entry_hardlink(entry);
    if (comps.empty()) {
      if (type != AE_IFDIR || hardlink) return InvalidArgument("the root must be a directory");
      tree_.Set("", MetaOf(entry));
      return OkStatus();
    }
    const std::string base = comps.back();
    if (options_.oci_whiteouts && base.rfind(kWhiteoutPrefix, 0) == 0)
      return ApplyWhiteout(comps, base);

    std::vector<std::string> parents(comps.begin(), comps.end() - 1);
    BANGER_ASSIGN_OR_RETURN(ResolvedDir dir,
                            ResolveDir(parents, Missing::kCreate, Symlinks::kFollowInRoot));
    const std::string rel = JoinRel(dir.rel, base);
    const int dirfd = dir.fd.get();
    EntryMeta meta = MetaOf(entry);

    struct stat existing;
    const bool exists = fstatat(dirfd, base.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
    if (type == AE_IFDIR && !hardlink) {
      if (exists && !S_ISDIR(existing.st_mode)) {
        BANGER_RETURN_IF_ERROR(RemoveAt(dirfd, base, rel));
        tree_.Erase(rel);
      }
      if (!(exists && S_ISDIR(existing.st_mode)) && mkdirat(dirfd, base.c_str(), 0700) != 0)
        return Error::FromErrno("create directory " + Quote(rel));
      tree_.Set(rel, std::move(meta));
      MarkWritten(rel);
      return OkStatus();
    }
    if ((type == AE_IFCHR || type == AE_IFBLK) && !hardlink) {
      if (!options_.keep_device_nodes) {
        ++stats_.skipped_devices;
        return OkStatus();
      }
      BANGER_ASSIGN_OR_RETURN(meta.rdev, DeviceNumber(entry));
    }
    if (type == AE_IFSOCK && !hardlink) return OkStatus();  // sockets are runtime objects

    // Everything else replaces what was there; it is never written through.
    if (exists) {
      BANGER_RETURN_IF_ERROR(RemoveAt(dirfd, base, rel));
      tree_.Erase(rel);
    }
    if (hardlink) {
      BANGER_ASSIGN_OR_RETURN(std::vector<std::string> tcomps, SplitArchivePath(hardlink));
      if (tcomps.empty()) return InvalidArgument("hardlink to the root refused");
      std::vector<std::string> tparents(tcomps.begin(), tcomps.end() - 1);
      auto tdir = ResolveDir(tparents, Missing::kFail, Symlinks::kFollowInRoot);
      if (!tdir.ok()) return std::move(tdir).error().WithContext("hardlink target " + Quote(hardlink));
      const std::string trel = JoinRel(tdir->rel, tcomps.back());
      // flags 0: a symlink target is linked itself, never followed.
      if (linkat(tdir->fd.get(), tcomps.back().c_str(), dirfd, base.c_str(), 0) != 0)
        return Error::FromErrno("hardlink to " + Quote(trel));
      // One inode, one set of attributes.
      if (const EntryMeta* tm = tree_.Find(trel)) meta = *tm;
      tree_.Set(rel, std::move(meta));
      MarkWritten(rel);
      return OkStatus();
    }
    switch (type) {
      case AE_IFREG:
        BANGER_RETURN_IF_ERROR(WriteFile(a, entry, dirfd, base, rel));
        break;
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(entry);
        if (!target || !*target) return InvalidArgument("symlink without a target");
        if (symlinkat(target, dirfd, base.c_str()) != 0)
          return Error::FromErrno("create symlink " + Quote(rel));
        struct timespec times[2] = {{0, UTIME_OMIT}, {archive_entry_mtime(entry), 0}};
        (void)utimensat(dirfd, base.c_str(), times, AT_SYMLINK_NOFOLLOW);
        break;
      }
      case AE_IFIFO:
        if (mkfifoat(dirfd, base.c_str(), 0600) != 0)
          return Error::FromErrno("create fifo " + Quote(rel));
        break;
      case AE_IFCHR:
      case AE_IFBLK: {
        // A placeholder keeps the path on disk; the image builder makes the
        // node from the recorded type and rdev.
        UniqueFd fd(openat(dirfd, base.c_str(),
                           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd.valid()) return Error::FromErrno("create placeholder " + Quote(rel));
        break;
      }
      default:
        return InvalidArgument("unsupported entry type " + std::to_string(type));
    }
    tree_.Set(rel, std::move(meta));
    MarkWritten(rel);
    return OkStatus();
  }

  std::string archive_path_;
  RootfsTree& tree_;
  const ExtractOptions& options_;
  ExtractStats& stats_;
  UniqueFd root_;
  std::set<std::string> written_;
};

}  // namespace

Status ApplyTarball(const std::string& archive_path, RootfsTree& tree,
                    const ExtractOptions& options, ExtractStats& stats) {
  Extractor extractor(archive_path, tree, options, stats);
  Status st = extractor.Run();
  if (!st.ok()) return std::move(st).error().WithContext("extract " + Quote(archive_path));
  return OkStatus();
}

}  // namespace banger::image
