// Small filesystem helpers. All return Status/Result with the path quoted.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "reconciler/base/error.h"

namespace banger {

Result<std::string> ReadFile(const std::string& path);

// Writes to "<path>.tmp-<pid>", fsyncs, renames over path and fsyncs the
// directory: readers see the old content or the new, never a mix.
Status AtomicWriteFile(const std::string& path, std::string_view data,
                       mode_t mode = 0644);

// mkdir -p; existing directories are fine.
Status MakeDirs(const std::string& path, mode_t mode = 0755);

// rm -rf without following symlinks; a missing path is fine.
Status RemoveTree(const std::string& path);

bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);

// Names in a directory (no "." or ".."), sorted.
Result<std::vector<std::string>> ListDir(const std::string& path);

// Joins with exactly one '/' between the parts.
std::string JoinPath(std::string_view a, std::string_view b);
std::string Dirname(const std::string& path);
std::string Basename(const std::string& path);

// `path` made absolute against the working directory (lexically: no
// symlinks resolved, "." and ".." parts removed).
Result<std::string> AbsolutePath(const std::string& path);

// "~" and "~/x" expanded against home.
std::string ExpandTilde(const std::string& path, const std::string& home);

// The user's home directory ($HOME, else the passwd entry).
std::string HomeDir();

// Fsyncs a directory so renames inside it are durable.
Status SyncDir(const std::string& dir);

// Renames atomically, failing rather than replacing when `to` exists.
Status RenameNoReplace(const std::string& from, const std::string& to);

// A directory removed with everything in it when the owner goes away,
// unless Release()d.
class TempDir {
 public:
  // Creates a fresh directory "<parent>/<prefix>XXXXXX".
  static Result<TempDir> Create(const std::string& parent,
                                const std::string& prefix = "tmp-");
  TempDir() = default;
  ~TempDir();
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
  }
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Release() { return std::exchange(path_, std::string()); }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace banger
