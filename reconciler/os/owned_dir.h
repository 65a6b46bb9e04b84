// Directories owned by one banger process, and the sweep that removes
// those whose process died without cleaning up (SIGKILL, a crash, power
// loss).
//
// An owned directory is named "<parent>/<prefix><pid>.<random>" and its
// owner holds an exclusive flock(2) on it for as long as it lives. The
// sweep removes a directory of that shape only when both say the owner is
// gone: no process with that PID exists and the lock can be taken. The PID
// alone could be reused or belong to another PID namespace sharing /tmp;
// the lock alone would not protect a directory planted by hand. Anything
// else in the parent is never touched.
#pragma once

#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger {

class OwnedDir {
 public:
  // Creates and locks "<parent>/<prefix><pid>.XXXXXX" (parent created 0700
  // when missing).
  static Result<OwnedDir> Create(const std::string& parent, const std::string& prefix);

  OwnedDir() = default;
  ~OwnedDir();
  OwnedDir(OwnedDir&& other) noexcept
      : path_(std::exchange(other.path_, std::string())), lock_(std::move(other.lock_)) {}
  OwnedDir& operator=(OwnedDir&& other) noexcept;
  OwnedDir(const OwnedDir&) = delete;
  OwnedDir& operator=(const OwnedDir&) = delete;

  const std::string& path() const { return path_; }
  // Keeps the directory (it was renamed into place) and drops the lock.
  std::string Release();
  // The random part of the name (after "<prefix><pid>."), e.g. to name
  // what the directory becomes.
  std::string Suffix() const;

 private:
  OwnedDir(std::string path, UniqueFd lock) : path_(std::move(path)), lock_(std::move(lock)) {}
  void Remove();

  std::string path_;
  UniqueFd lock_;  // the directory itself, flock'ed
};

// The PID in an owned directory's name, or 0 when `name` is not
// "<prefix><digits>.<suffix>".
pid_t OwnerPid(const std::string& name, const std::string& prefix);

struct SweepResult {
  std::vector<std::string> removed;  // paths
  std::vector<std::string> kept;     // paths whose owner is alive
};

// Removes the owned directories under `parent` with one of `prefixes`
// whose owner is gone. A missing parent is fine. Fails only when the parent
// cannot be listed or a dead owner's directory cannot be removed.
Result<SweepResult> SweepDeadOwners(const std::string& parent,
                                    const std::vector<std::string>& prefixes);

// The prefix of this process's host temp directory under $TMPDIR.
inline constexpr char kHostTempPrefix[] = "banger-";

// Where host-side temp files go (debugfs scripts, xattr values, fakeroot
// state): "$TMPDIR/banger-<pid>.XXXXXX", created on first use, owned and
// locked by this process and removed when it exits normally. Falls back to
// $TMPDIR (or /tmp) itself when it cannot be created.
std::string HostTempParent();

}  // namespace banger
