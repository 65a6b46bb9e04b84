#include "reconciler/kernel/initramfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <memory>

#include "reconciler/os/unique_fd.h"

namespace banger::kernel {
namespace {

struct WriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

std::string ArchiveError(struct archive* a) {
  const char* e = archive_error_string(a);
  return e ? e : "unknown libarchive error";
}

class CpioWriter {
 public:
  CpioWriter(struct archive* a, std::string path) : a_(a), path_(std::move(path)) {}

  Status Dir(const std::string& name) { return Add(name, AE_IFDIR | 0755, "", "", 0); }
  Status File(const std::string& name, uint32_t perm, const std::string& data) {
    return Add(name, AE_IFREG | perm, data, "", 0);
  }
  Status Symlink(const std::string& name, const std::string& target) {
    return Add(name, AE_IFLNK | 0777, "", target, 0);
  }
  Status CharDevice(const std::string& name, uint32_t perm, unsigned maj, unsigned min) {
    return Add(name, AE_IFCHR | perm, "", "", makedev(maj, min));
  }

 private:
  Status Add(const std::string& name, uint32_t mode, const std::string& data,
             const std::string& target, dev_t rdev) {
    std::unique_ptr<struct archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_mode(e.get(), mode);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_mtime(e.get(), 0, 0);
    archive_entry_set_ino(e.get(), ++ino_);
    archive_entry_set_nlink(e.get(), (mode & AE_IFMT) == AE_IFDIR ? 2 : 1);
    // newc needs a size on every header: 0 for everything but files.
    archive_entry_set_size(e.get(), data.size());
    if ((mode & AE_IFMT) == AE_IFLNK) archive_entry_set_symlink(e.get(), target.c_str());
    if ((mode & AE_IFMT) == AE_IFCHR) archive_entry_set_rdev(e.get(), rdev);
    if (archive_write_header(a_, e.get()) != ARCHIVE_OK) {
      return Error(Code::kIo, "write initramfs " + Quote(path_) + ": entry " + Quote(name) +
                                  ": " + ArchiveError(a_));
    }
    if (!data.empty() &&
        archive_write_data(a_, data.data(), data.size()) != static_cast<la_ssize_t>(data.size())) {
      return Error(Code::kIo, "write initramfs " + Quote(path_) + ": data of " + Quote(name) +
                                  ": " + ArchiveError(a_));
    }
    return OkStatus();
  }

  struct archive* a_;
  std::string path_;
  int64_t ino_ = 0;
};

}  // namespace

const std::vector<std::string>& InitramfsApplets() {
  static const std::vector<std::string> kApplets = {
      "sh",   "mount", "umount", "insmod", "switch_root", "mkdir", "sleep",
      "cat",  "grep",  "findfs", "poweroff", "halt",      "sync",  "ls",
      "echo", "dmesg", "cmp",    "chmod",  "mv",
  };
  return kApplets;
}

Status WriteInitramfs(const InitramfsContents& contents, const std::string& path) {
  if (contents.busybox.empty()) return InvalidArgument("initramfs " + Quote(path) + ": no busybox");
  if (contents.init_script.compare(0, 2, "#!") != 0) {
    return InvalidArgument("initramfs " + Quote(path) + ": init script has no #! line");
  }
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return Error::FromErrno("create " + Quote(path));
  std::unique_ptr<struct archive, WriteDeleter> a(archive_write_new());
  if (!a) return Internal("initramfs: archive_write_new failed");
  if (archive_write_set_format_cpio_newc(a.get()) != ARCHIVE_OK ||
      archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK) {
    return Error(Code::kInternal, "initramfs: " + ArchiveError(a.get()));
  }
  // No timestamp in the gzip header: reproducible output. Older libarchive
  // without the option writes zero anyway.
  (void)archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr);
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open_fd(a.get(), fd.get()) != ARCHIVE_OK) {
    return Error(Code::kIo, "write initramfs " + Quote(path) + ": " + ArchiveError(a.get()));
  }
  CpioWriter w(a.get(), path);
  for (const char* dir : {"bin", "dev", "lib", "lib/modules", "newroot", "proc", "sys"}) {
    BANGER_RETURN_IF_ERROR(w.Dir(dir));
  }
  // The kernel opens /dev/console for /init before devtmpfs is mounted.
  BANGER_RETURN_IF_ERROR(w.CharDevice("dev/console", 0600, 5, 1));
  BANGER_RETURN_IF_ERROR(w.File("bin/busybox", 0755, contents.busybox));
  for (const auto& applet : InitramfsApplets()) {
    BANGER_RETURN_IF_ERROR(w.Symlink("bin/" + applet, "busybox"));
  }
  std::string order;
  for (const auto& m : contents.modules) {
    BANGER_RETURN_IF_ERROR(w.File("lib/modules/" + m.name + ".ko", 0644, m.elf));
    order += m.name + "\n";
  }
  BANGER_RETURN_IF_ERROR(w.File("lib/modules/load-order", 0644, order));
  BANGER_RETURN_IF_ERROR(w.File("init", 0755, contents.init_script));
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return Error(Code::kIo, "write initramfs " + Quote(path) + ": " + ArchiveError(a.get()));
  }
  if (::fsync(fd.get()) != 0) return Error::FromErrno("fsync " + Quote(path));
  return OkStatus();
}

Result<std::vector<ArchiveMember>> ListArchive(const std::string& path,
                                               uint64_t keep_data_up_to) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno("open " + Quote(path));
  std::unique_ptr<struct archive, ReadDeleter> a(archive_read_new());
  if (!a) return Internal("list archive: archive_read_new failed");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_all(a.get());
  if (archive_read_open_fd(a.get(), fd.get(), 1 << 16) != ARCHIVE_OK) {
    return Error(Code::kCorruption, "read archive " + Quote(path) + ": " + ArchiveError(a.get()));
  }
  std::vector<ArchiveMember> out;
  struct archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return Error(Code::kCorruption, "read archive " + Quote(path) + ": " + ArchiveError(a.get()));
    }
    ArchiveMember m;
    m.path = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    if (m.path.compare(0, 2, "./") == 0) m.path.erase(0, 2);
    m.mode = archive_entry_mode(e);
    m.size = archive_entry_size(e);
    if (const char* t = archive_entry_symlink(e)) m.symlink = t;
    m.rdev = archive_entry_rdev(e);
    if ((m.mode & AE_IFMT) == AE_IFREG && m.size <= keep_data_up_to) {
      m.data.resize(m.size);
      if (m.size > 0 && archive_read_data(a.get(), m.data.data(), m.size) !=
                            static_cast<la_ssize_t>(m.size)) {
        return Error(Code::kCorruption, "read archive " + Quote(path) + ": data of " +
                                            Quote(m.path) + ": " + ArchiveError(a.get()));
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace banger::kernel
