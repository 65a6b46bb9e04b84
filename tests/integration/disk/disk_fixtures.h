// Fixtures for the disk tests: files with known data and holes, the
// observations made on them (content, allocation, shared extents,
// leftovers), and owners of loop devices and mounts so a filesystem made
// for one test case is unmounted and detached even when the case fails,
// plus the checks that prove nothing leaked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/os/fs.h"

namespace banger::testing {

struct DataRange {
  uint64_t offset;
  uint64_t length;
  char fill;
};

// Creates `path` of `size` bytes that holds `ranges` and holes elsewhere.
// Throws on failure (test code).
void MakeSparseFile(const std::string& path, uint64_t size,
                    const std::vector<DataRange>& ranges);

// The whole content of a file (throws when unreadable).
std::string ReadAll(const std::string& path);

// Bytes actually allocated (st_blocks * 512) and the apparent size.
uint64_t AllocatedBytes(const std::string& path);
uint64_t FileSize(const std::string& path);
uint64_t Inode(const std::string& path);

// Bytes of `path` in extents the filesystem reports as shared (FIEMAP).
uint64_t SharedExtentBytes(const std::string& path);

// Names in `dir` that look like staged temporaries (".<name>.partial-").
std::vector<std::string> StagedLeftovers(const std::string& dir);

// Writes `data` at `offset` in an existing file (throws on failure).
void WriteAt(const std::string& path, uint64_t offset, const std::string& data);

// A loop device attached to a file with `losetup --find --show`.
class LoopDevice {
 public:
  static Result<LoopDevice> Attach(const std::string& file);
  LoopDevice() = default;
  ~LoopDevice();  // `losetup -d`
  LoopDevice(LoopDevice&& other) noexcept : device_(std::exchange(other.device_, {})) {}
  LoopDevice& operator=(LoopDevice&& other) noexcept;
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;

  const std::string& device() const { return device_; }

 private:
  explicit LoopDevice(std::string device) : device_(std::move(device)) {}
  void Detach();
  std::string device_;
};

// A mount made with mount(2); unmounted by umount2(2) on scope exit.
class ScopedMount {
 public:
  static Result<ScopedMount> Mount(const std::string& source, const std::string& target,
                                   const std::string& fstype, const std::string& options = "");
  ScopedMount() = default;
  ~ScopedMount();
  ScopedMount(ScopedMount&& other) noexcept : target_(std::exchange(other.target_, {})) {}
  ScopedMount& operator=(ScopedMount&& other) noexcept;
  ScopedMount(const ScopedMount&) = delete;
  ScopedMount& operator=(const ScopedMount&) = delete;

  const std::string& target() const { return target_; }

 private:
  explicit ScopedMount(std::string target) : target_(std::move(target)) {}
  void Unmount();
  std::string target_;
};

// A filesystem image file, attached and mounted inside a scratch dir.
// Members are destroyed in reverse order: unmount, detach, remove files.
struct MountedImage {
  TempDir scratch;
  std::string image;
  LoopDevice loop;
  ScopedMount mount;

  const std::string& dir() const { return mount.target(); }
};

// A sparse `size`-byte XFS image with reflink enabled, loop-mounted.
Result<MountedImage> MountXfsWithReflink(uint64_t size);
// An ext4 image, loop-mounted.
Result<MountedImage> MountExt4(uint64_t size);

// A tmpfs mounted on a fresh directory inside `scratch` (which must
// outlive the mount).
Result<ScopedMount> MountTmpfs(const std::string& scratch);

// Whether `dir` is a mount point now (from /proc/self/mountinfo).
Result<bool> IsMountPoint(const std::string& dir);
// Loop devices whose backing file is `file`, empty when none.
Result<std::vector<std::string>> LoopDevicesFor(const std::string& file);

}  // namespace banger::testing
