// An advisory lock on a file (flock), held for the owner's life: exclusive,
// or shared where many readers may hold it at once.
//
// The holder writes its PID into the file so a second process that fails to
// take the lock can say who holds it. The kernel drops the lock when the
// holder dies, so a crashed apply never leaves the state dir locked.
#pragma once

#include <sys/types.h>

#include <string>

#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger {

class FileLock {
 public:
  // Takes the lock at once or fails with Code::kBusy naming the holder's PID.
  // `what` names the protected object in messages ("state dir '/x'").
  static Result<FileLock> TryAcquire(const std::string& path, const std::string& what);

  // The PID the current (or last) holder wrote into the file; 0 if none.
  static pid_t HolderPid(const std::string& path);

  // Waits until the lock is free (for short, per-object critical sections).
  static Result<FileLock> Acquire(const std::string& path);
  // Waits for a shared hold: many readers at once, none while an exclusive
  // holder has it (writes no PID: readers are many).
  static Result<FileLock> AcquireShared(const std::string& path);

  FileLock() = default;
  FileLock(FileLock&&) noexcept = default;
  FileLock& operator=(FileLock&&) noexcept = default;

  bool held() const { return fd_.valid(); }
  void Unlock() { fd_.Reset(); }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace banger
