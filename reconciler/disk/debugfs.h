// Reading and changing files inside an ext4 image without mounting it.
//
// banger runs unprivileged, so it cannot mount images; e2fsprogs' debugfs
// edits them as plain files instead. Everything here goes through one
// debugfs process per call (a batch), started via CommandRunner.
//
// Used to finish a freshly built rootfs (owners, modes, xattrs, device
// nodes), to put /root/.ssh/authorized_keys into a VM work disk and to sync
// files into a stopped disk. The image must not be in use by a running VM
// while it is opened writable.
//
// debugfs exits 0 even when a command in a batch fails; it reports failures
// on stderr. Every batch here is therefore checked for stderr lines other
// than the version banner, and any such line makes the call fail.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/os/exec.h"

namespace banger::disk {

// Quotes one argument for the debugfs command language (lib/ss parsing):
// always wrapped in double quotes, with an embedded '"' doubled. Line breaks
// and NUL cannot be expressed in a script line and are rejected.
Result<std::string> DebugfsQuote(std::string_view arg);

// A batch of debugfs commands, built up and rendered as one script. Paths
// are absolute inside the image ("/etc/passwd"). The first invalid argument
// is remembered and returned by Render(), so callers can add commands
// without checking each one.
class DebugfsScript {
 public:
  // set_inode_field PATH FIELD VALUE (uid, gid, mode, mtime, ...).
  void SetInodeField(const std::string& path, std::string_view field,
                     std::string_view value);
  // uid, gid and the full st_mode (type and permission bits) of PATH.
  void SetOwnerAndMode(const std::string& path, uint32_t uid, uint32_t gid,
                       uint32_t mode);
  // ea_set -f VALUE_FILE PATH NAME: the value is read from a host file so
  // binary values (security.capability) survive.
  void SetXattrFromFile(const std::string& path, std::string_view name,
                        const std::string& value_file);
  // Creates a char/block device or FIFO node at PATH (its parent must
  // exist). `mode` carries the type bits; permission bits, owner and group
  // are set as well.
  void MakeNode(const std::string& path, uint32_t mode, uint64_t rdev,
                uint32_t uid, uint32_t gid);
  // Copies a host file to PATH (which must not exist; its parent must).
  void WriteFile(const std::string& host_file, const std::string& path);
  void MakeDir(const std::string& path);
  void Remove(const std::string& path);  // unlink a non-directory
  void Stat(const std::string& path);
  // Appends a raw, already quoted line (for commands not wrapped here).
  void Raw(std::string line);

  size_t size() const { return lines_.size(); }
  bool empty() const { return lines_.empty(); }
  // The script text, or the first quoting error.
  Result<std::string> Render() const;

 private:
  // Quotes into `out`; on failure remembers the error and returns false.
  bool Q(std::string_view arg, std::string& out);
  void ChangeDir(const std::string& dir);

  std::vector<std::string> lines_;
  std::optional<Error> error_;
};

// What `stat` reports about one inode.
struct InodeInfo {
  uint64_t inode = 0;
  uint32_t mode = 0;   // full st_mode (type bits from "Type:")
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  uint32_t links = 0;
  uint64_t rdev = 0;   // device nodes: makedev(major, minor)
};

// Parses the text debugfs prints for one `stat`; fails when it has no
// inode line (the path did not exist).
Result<InodeInfo> ParseDebugfsStat(std::string_view text);

// An owner and mode for files and directories written into an image.
struct FileOwnership {
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t mode = 0644;  // permission bits only; the type is implied
};

class Debugfs {
 public:
  Debugfs(std::string image_path, CommandRunner& runner)
      : image_(std::move(image_path)), runner_(runner) {}

  const std::string& image() const { return image_; }

  // Runs a batch (`debugfs [-w] -f script image`). Returns stdout. Fails
  // naming the image and the first error lines debugfs printed.
  Result<std::string> Run(const DebugfsScript& script, bool writable);

  // Metadata of one path; nullopt when it does not exist.
  Result<std::optional<InodeInfo>> Stat(const std::string& path);
  // Metadata of several paths in one run, same order; nullopt for missing.
  Result<std::vector<std::optional<InodeInfo>>> StatMany(
      const std::vector<std::string>& paths);

  // Extended attributes of one path (name -> raw value), via ea_list/ea_get.
  Result<std::vector<std::string>> ListXattrNames(const std::string& path);
  Result<std::string> GetXattr(const std::string& path, const std::string& name);

  // Content of a regular file, at most `max_bytes` (larger files fail).
  Result<std::string> ReadFile(const std::string& path,
                               size_t max_bytes = 16u << 20);
  // Copies a file out of the image to a host path (`dump`).
  Status DumpFile(const std::string& path, const std::string& host_path);

  // Writes `content` to PATH with the given owner and mode, replacing a
  // regular file that is already there. Missing parent directories are
  // created with `parents`. Fails if PATH is a directory.
  Status WriteFile(const std::string& path, std::string_view content,
                   const FileOwnership& file, const FileOwnership& parents);
  // Creates PATH and any missing parents with the given owner and mode;
  // existing directories are left as they are.
  Status MakeDirs(const std::string& path, const FileOwnership& dirs);

 private:
  // Adds mkdir commands for every missing component of `dir` to `script`.
  Status AddMissingDirs(const std::string& dir, const FileOwnership& dirs,
                        DebugfsScript& script);

  std::string image_;
  CommandRunner& runner_;
};

}  // namespace banger::disk
