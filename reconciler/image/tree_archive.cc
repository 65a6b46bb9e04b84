#include "reconciler/image/tree_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <vector>

#include "reconciler/image/staging_walk.h"
#include "reconciler/os/cancel.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"

namespace banger::image {
namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;
using EntryPtr = std::unique_ptr<archive_entry, EntryDeleter>;

Status ArchiveError(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return Error(Code::kIo, what + ": " + (msg ? msg : "unknown libarchive error"));
}

void SetMeta(archive_entry* e, const EntryMeta& meta) {
  archive_entry_set_uid(e, meta.uid);
  archive_entry_set_gid(e, meta.gid);
  archive_entry_set_mode(e, meta.mode);
  for (const auto& [name, value] : meta.xattrs) {
    archive_entry_xattr_add_entry(e, name.c_str(), value.data(), value.size());
  }
}

Status WriteContent(archive* a, const std::string& path, const std::string& shown) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno("open " + Quote(path));
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read " + Quote(path));
    if (n == 0) return OkStatus();
    if (archive_write_data(a, buf.data(), static_cast<size_t>(n)) != n) {
      return ArchiveError(a, "archive " + Quote(shown));
    }
  }
}

Status WriteEntries(archive* a, const RootfsTree& tree) {
  BANGER_ASSIGN_OR_RETURN(auto items, CollectStagedItems(tree));
  EntryMeta root_meta;
  root_meta.mode = S_IFDIR | 0755;
  if (const EntryMeta* m = tree.Find("")) root_meta = *m;
  EntryPtr root(archive_entry_new());
  archive_entry_set_pathname(root.get(), "./");
  SetMeta(root.get(), root_meta);
  if (archive_write_header(a, root.get()) != ARCHIVE_OK) return ArchiveError(a, "archive the root");

  std::map<std::pair<dev_t, ino_t>, std::string> first_name;
  for (const auto& [rel, item] : items) {
    BANGER_RETURN_IF_ERROR(CheckCancelled("archive " + Quote(rel)));
    EntryPtr e(archive_entry_new());
    archive_entry_set_pathname(e.get(), ("./" + rel).c_str());
    SetMeta(e.get(), item.meta);
    bool with_content = false;
    if (item.staged) {
      archive_entry_set_mtime(e.get(), item.st.st_mtim.tv_sec, item.st.st_mtim.tv_nsec);
    }
    const bool same_type = item.staged && (item.st.st_mode & S_IFMT) == (item.meta.mode & S_IFMT);
    if (IsSpecialNode(item.meta.mode)) {
      archive_entry_set_rdev(e.get(), item.meta.rdev);
    } else if (!same_type) {
      return Error(Code::kCorruption, Quote(rel) + " is staged as a different file type than its metadata says");
    } else if (S_ISREG(item.st.st_mode)) {
      auto [it, fresh] = first_name.try_emplace({item.st.st_dev, item.st.st_ino}, rel);
      if (item.st.st_nlink > 1 && !fresh) {
        archive_entry_set_hardlink(e.get(), ("./" + it->second).c_str());
        archive_entry_set_size(e.get(), 0);
      } else {
        archive_entry_set_size(e.get(), item.st.st_size);
        with_content = true;
      }
    } else if (S_ISLNK(item.st.st_mode)) {
      std::string target(static_cast<size_t>(item.st.st_size) + 1, '\0');
      std::string path = JoinPath(tree.root(), rel);
      ssize_t n = readlink(path.c_str(), target.data(), target.size());
      if (n < 0) return Error::FromErrno("read link " + Quote(path));
      target.resize(static_cast<size_t>(n));
      archive_entry_set_symlink(e.get(), target.c_str());
    }
    if (archive_write_header(a, e.get()) != ARCHIVE_OK) return ArchiveError(a, "archive " + Quote(rel));
    if (with_content) BANGER_RETURN_IF_ERROR(WriteContent(a, JoinPath(tree.root(), rel), rel));
  }
  return OkStatus();
}

}  // namespace

Status WriteTreeTarball(const RootfsTree& tree, const std::string& out_path) {
  std::string tmp = out_path + ".tmp-" + std::to_string(getpid());
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return Error::FromErrno("create " + Quote(tmp));
  // The partial file goes away on every failure path below.
  struct Unlinker {
    std::string path;
    ~Unlinker() {
      if (!path.empty()) unlink(path.c_str());
    }
  } cleanup{tmp};

  ArchivePtr a(archive_write_new());
  if (!a) return Error(Code::kInternal, "archive_write_new failed");
  archive_write_set_format_pax_restricted(a.get());
  // Names are bytes, not text: without this, libarchive tries to convert
  // them to UTF-8 through the locale and fails on non-ASCII names under C.
  archive_write_set_format_option(a.get(), "pax", "hdrcharset", "BINARY");
  if (archive_write_open_fd(a.get(), fd.get()) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "open " + Quote(tmp));
  }
  Status st = WriteEntries(a.get(), tree);
  if (!st.ok()) return std::move(st).error().WithContext("write " + Quote(out_path));
  if (archive_write_close(a.get()) != ARCHIVE_OK) return ArchiveError(a.get(), "finish " + Quote(tmp));
  if (fsync(fd.get()) != 0) return Error::FromErrno("sync " + Quote(tmp));
  fd.Reset();
  if (rename(tmp.c_str(), out_path.c_str()) != 0) return Error::FromErrno("rename to " + Quote(out_path));
  cleanup.path.clear();
  return SyncDir(Dirname(out_path));
}

}  // namespace banger::image
