#include "reconciler/os/fs.h"

#include <atomic>

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "reconciler/os/unique_fd.h"

namespace banger {

Result<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno("read " + Quote(path));
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("read " + Quote(path));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status SyncDir(const std::string& dir) {
  UniqueFd fd(open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno("open directory " + Quote(dir));
  if (fsync(fd.get()) != 0) return Error::FromErrno("fsync " + Quote(dir));
  return OkStatus();
}

Status AtomicWriteFile(const std::string& path, std::string_view data, mode_t mode) {
  // Unique per call, not just per process: threads of one apply (parallel
  // image pulls sharing a cache) may write the same path at once.
  static std::atomic<uint64_t> serial{0};
  const std::string tmp =
      path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(serial++);
  {
    UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd.valid()) return Error::FromErrno("write " + Quote(tmp));
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = write(fd.get(), data.data() + off, data.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        Error e = Error::FromErrno("write " + Quote(tmp));
        unlink(tmp.c_str());
        return e;
      }
      off += static_cast<size_t>(n);
    }
    if (fchmod(fd.get(), mode) != 0 || fsync(fd.get()) != 0) {
      Error e = Error::FromErrno("sync " + Quote(tmp));
      unlink(tmp.c_str());
      return e;
    }
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = Error::FromErrno("rename " + Quote(tmp) + " to " + Quote(path));
    unlink(tmp.c_str());
    return e;
  }
  return SyncDir(Dirname(path));
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return OkStatus();
  std::string cur;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    cur = path.substr(0, next);
    pos = next + 1;
    if (cur.empty()) continue;
    if (mkdir(cur.c_str(), mode) != 0 && errno != EEXIST)
      return Error::FromErrno("create directory " + Quote(cur));
  }
  if (!IsDirectory(path)) {
    return Error(Code::kFailedPrecondition, "create directory " + Quote(path) +
                                                ": exists and is not a directory");
  }
  return OkStatus();
}

static Status RemoveAt(int dirfd, const char* name, const std::string& shown) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return OkStatus();
    return Error::FromErrno("stat " + Quote(shown));
  }
  if (S_ISDIR(st.st_mode)) {
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Error::FromErrno("open " + Quote(shown));
    // Owner-only directories we created (rootfs staging) may lack write bits.
    fchmod(fd, 0700);
    DIR* d = fdopendir(fd);
    if (!d) {
      close(fd);
      return Error::FromErrno("open " + Quote(shown));
    }
    std::vector<std::string> names;
    while (dirent* e = readdir(d)) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      names.emplace_back(e->d_name);
    }
    Status st_child;
    for (const auto& n : names) {
      st_child = RemoveAt(::dirfd(d), n.c_str(), shown + "/" + n);
      if (!st_child.ok()) break;
    }
    closedir(d);
    if (!st_child.ok()) return st_child;
    if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
      return Error::FromErrno("remove " + Quote(shown));
    return OkStatus();
  }
  if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
    return Error::FromErrno("remove " + Quote(shown));
  return OkStatus();
}

Status RemoveTree(const std::string& path) {
  if (path.empty() || path == "/") return InvalidArgument("refusing to remove " + Quote(path));
  return RemoveAt(AT_FDCWD, path.c_str(), path);
}

bool PathExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::vector<std::string>> ListDir(const std::string& path) {
  DIR* d = opendir(path.c_str());
  if (!d) return Error::FromErrno("list " + Quote(path));
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  out += '/';
  out += b;
  return out;
}

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string ExpandTilde(const std::string& path, const std::string& home) {
  if (path == "~") return home;
  if (path.rfind("~/", 0) == 0) return JoinPath(home, path.substr(2));
  return path;
}

std::string HomeDir() {
  if (const char* h = getenv("HOME"); h && *h) return h;
  if (passwd* pw = getpwuid(getuid())) return pw->pw_dir;
  return "/";
}

Status RenameNoReplace(const std::string& from, const std::string& to) {
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0)
    return Error::FromErrno("rename " + Quote(from) + " to " + Quote(to));
  return OkStatus();
}

Result<TempDir> TempDir::Create(const std::string& parent, const std::string& prefix) {
  BANGER_RETURN_IF_ERROR(MakeDirs(parent, 0700));
  std::string templ = JoinPath(parent, prefix + "XXXXXX");
  if (!mkdtemp(templ.data())) return Error::FromErrno("create temp dir in " + Quote(parent));
  return TempDir(templ);
}

TempDir::~TempDir() {
  if (!path_.empty()) (void)RemoveTree(path_);
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) (void)RemoveTree(path_);
    path_ = std::exchange(other.path_, std::string());
  }
  return *this;
}

Result<std::string> AbsolutePath(const std::string& path) {
  std::string joined = path;
  if (path.empty() || path[0] != '/') {
    char buf[4096];
    if (!getcwd(buf, sizeof buf)) return Error::FromErrno("getcwd");
    joined = JoinPath(buf, path);
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t slash = joined.find('/', start);
    if (slash == std::string::npos) slash = joined.size();
    std::string part = joined.substr(start, slash - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = slash + 1;
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? std::string("/") : out;
}

}  // namespace banger
