// A root filesystem being assembled in a staging directory.
//
// banger usually runs unprivileged, so files on disk belong to the invoking
// user and keep owner-accessible modes. The real ownership, mode (including
// setuid/setgid/sticky), xattrs and device numbers live in `entries`, keyed
// by path relative to the root ("" is the root itself, "etc/passwd"). The
// ext4 builder applies them to the image, so the result is exact whether or
// not banger ran as root.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "reconciler/base/error.h"

namespace banger::image {

struct EntryMeta {
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t mode = 0;     // full st_mode: type bits | permission bits
  uint64_t rdev = 0;     // device nodes (char/block) only
  std::map<std::string, std::string> xattrs;  // e.g. security.capability

  bool operator==(const EntryMeta& o) const {
    return uid == o.uid && gid == o.gid && mode == o.mode && rdev == o.rdev &&
           xattrs == o.xattrs;
  }
};

class RootfsTree {
 public:
  explicit RootfsTree(std::string root) : root_(std::move(root)) {}

  // The staging directory.
  const std::string& root() const { return root_; }

  // Records metadata for a relative path (no leading '/', no "..").
  void Set(const std::string& rel, EntryMeta meta) { entries_[rel] = std::move(meta); }
  // Forgets a path and everything below it.
  void Erase(const std::string& rel);
  const EntryMeta* Find(const std::string& rel) const;
  const std::map<std::string, EntryMeta>& entries() const { return entries_; }

  // Persists/loads the metadata as JSON next to a cached tree.
  Status Save(const std::string& path) const;
  static Result<RootfsTree> Load(const std::string& root, const std::string& path);

 private:
  std::string root_;
  std::map<std::string, EntryMeta> entries_;
};

}  // namespace banger::image
