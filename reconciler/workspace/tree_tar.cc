#include "reconciler/workspace/tree_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"

namespace banger::workspace {
namespace {

constexpr size_t kChunk = 64 * 1024;

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

struct SinkContext {
  const TarSink* sink;
  Status status;
};

la_ssize_t WriteCallback(archive*, void* ctx, const void* buf, size_t n) {
  auto* c = static_cast<SinkContext*>(ctx);
  Status st = (*c->sink)(std::string_view(static_cast<const char*>(buf), n));
  if (!st.ok()) {
    c->status = st;
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

class TarWriter {
 public:
  explicit TarWriter(const TarSink& sink) : ctx_{&sink, OkStatus()}, a_(archive_write_new()) {}

  Status Open() {
    archive_write_set_format_pax_restricted(a_.get());
    archive_write_set_bytes_per_block(a_.get(), 0);
    if (archive_write_open2(a_.get(), &ctx_, nullptr, WriteCallback, nullptr, nullptr) != ARCHIVE_OK)
      return Failed("start the workspace tar stream");
    return OkStatus();
  }

  Status Add(const std::string& name, const std::string& host, bool recurse) {
    struct stat st;
    if (lstat(host.c_str(), &st) != 0) return Error::FromErrno("stat " + Quote(host));
    if (!name.empty()) BANGER_RETURN_IF_ERROR(Header(name, host, st));
    if (S_ISREG(st.st_mode)) return Content(name, host);
    if (!S_ISDIR(st.st_mode) || !recurse) return OkStatus();
    BANGER_ASSIGN_OR_RETURN(std::vector<std::string> children, ListDir(host));
    for (const std::string& c : children)
      BANGER_RETURN_IF_ERROR(Add(name.empty() ? c : name + "/" + c, JoinPath(host, c), true));
    return OkStatus();
  }

  Status Close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return Failed("finish the workspace tar stream");
    return ctx_.status;
  }

 private:
  Status Failed(const std::string& what) {
    if (!ctx_.status.ok()) return ctx_.status;
    const char* why = archive_error_string(a_.get());
    return Error(Code::kIo, what + ": " + (why ? why : "libarchive failed"));
  }

  Status Header(const std::string& name, const std::string& host, const struct stat& st) {
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    archive_entry_set_perm(e.get(), st.st_mode & 07777);
    if (S_ISDIR(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFDIR);
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = readlink(host.c_str(), target.data(), target.size());
      if (n < 0) return Error::FromErrno("readlink " + Quote(host));
      target.resize(static_cast<size_t>(n));
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      archive_entry_set_symlink(e.get(), target.c_str());
    } else if (S_ISREG(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_size(e.get(), st.st_size);
    } else {
      return OkStatus();
    }
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK)
      return Failed("tar header for " + Quote(name));
    return OkStatus();
  }

  Status Content(const std::string& name, const std::string& host) {
    UniqueFd fd(open(host.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return Error::FromErrno("open " + Quote(host));
    char buf[kChunk];
    for (;;) {
      ssize_t n = read(fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error::FromErrno("read " + Quote(host));
      if (n == 0) return OkStatus();
      if (archive_write_data(a_.get(), buf, static_cast<size_t>(n)) < 0)
        return Failed("tar data of " + Quote(name));
    }
  }

  SinkContext ctx_;
  std::unique_ptr<archive, ArchiveDeleter> a_;
};

}  // namespace

Status WriteImportTar(const std::vector<ImportEntry>& entries, const TarSink& sink) {
  TarWriter writer(sink);
  BANGER_RETURN_IF_ERROR(writer.Open());
  for (const ImportEntry& e : entries) BANGER_RETURN_IF_ERROR(writer.Add(e.name, e.host_path, e.recurse));
  return writer.Close();
}

}  // namespace banger::workspace
