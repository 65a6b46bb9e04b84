#include "reconciler/os/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace banger {
namespace {

Result<UniqueFd> OpenLockFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return Error::FromErrno("open lock " + Quote(path));
  return fd;
}

void WritePid(int fd) {
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) == 0) (void)!pwrite(fd, pid.data(), pid.size(), 0);
}

}  // namespace

Result<FileLock> FileLock::TryAcquire(const std::string& path, const std::string& what) {
  BANGER_ASSIGN_OR_RETURN(UniqueFd fd, OpenLockFile(path));
  while (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return Error::FromErrno("lock " + Quote(path));
    char buf[32] = {};
    ssize_t n = pread(fd.get(), buf, sizeof buf - 1, 0);
    long pid = n > 0 ? strtol(buf, nullptr, 10) : 0;
    std::string holder = pid > 0 ? "process " + std::to_string(pid) : "another process";
    return Error(Code::kBusy, what + " is locked by " + holder + " (lock file " +
                                  Quote(path) + ")");
  }
  WritePid(fd.get());
  return FileLock(std::move(fd));
}

pid_t FileLock::HolderPid(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return 0;
  char buf[32] = {};
  ssize_t n = pread(fd.get(), buf, sizeof buf - 1, 0);
  long pid = n > 0 ? strtol(buf, nullptr, 10) : 0;
  return pid > 0 ? static_cast<pid_t>(pid) : 0;
}

Result<FileLock> FileLock::Acquire(const std::string& path) {
  BANGER_ASSIGN_OR_RETURN(UniqueFd fd, OpenLockFile(path));
  while (flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Error::FromErrno("lock " + Quote(path));
  }
  WritePid(fd.get());
  return FileLock(std::move(fd));
}

Result<FileLock> FileLock::AcquireShared(const std::string& path) {
  BANGER_ASSIGN_OR_RETURN(UniqueFd fd, OpenLockFile(path));
  while (flock(fd.get(), LOCK_SH) != 0) {
    if (errno != EINTR) return Error::FromErrno("lock " + Quote(path));
  }
  return FileLock(std::move(fd));
}

}  // namespace banger
