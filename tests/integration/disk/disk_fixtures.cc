#include "tests/integration/disk/disk_fixtures.h"

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "reconciler/os/exec.h"
#include "reconciler/os/unique_fd.h"
#include "tests/support/test_env.h"

namespace banger::testing {

namespace {

[[noreturn]] void Fail(const std::string& what) {
  throw std::runtime_error(Error::FromErrno(what).message());
}

struct stat Stat(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) Fail("stat " + Quote(path));
  return st;
}

}  // namespace

void MakeSparseFile(const std::string& path, uint64_t size,
                    const std::vector<DataRange>& ranges) {
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) Fail("create " + Quote(path));
  if (ftruncate(fd.get(), static_cast<off_t>(size)) != 0) Fail("size " + Quote(path));
  for (const DataRange& r : ranges) {
    std::string data(r.length, r.fill);
    if (pwrite(fd.get(), data.data(), data.size(), static_cast<off_t>(r.offset)) !=
        static_cast<ssize_t>(data.size()))
      Fail("write " + Quote(path));
  }
  if (fsync(fd.get()) != 0) Fail("fsync " + Quote(path));
}

std::string ReadAll(const std::string& path) {
  auto content = ReadFile(path);
  if (!content.ok()) throw std::runtime_error(content.error().message());
  return *content;
}

uint64_t AllocatedBytes(const std::string& path) {
  return static_cast<uint64_t>(Stat(path).st_blocks) * 512;
}
uint64_t FileSize(const std::string& path) { return static_cast<uint64_t>(Stat(path).st_size); }
uint64_t Inode(const std::string& path) { return static_cast<uint64_t>(Stat(path).st_ino); }

uint64_t SharedExtentBytes(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) Fail("open " + Quote(path));
  constexpr unsigned kExtents = 256;
  std::vector<char> buf(sizeof(fiemap) + kExtents * sizeof(fiemap_extent));
  uint64_t shared = 0;
  uint64_t start = 0;
  for (;;) {
    std::fill(buf.begin(), buf.end(), 0);
    auto* fm = reinterpret_cast<fiemap*>(buf.data());
    fm->fm_start = start;
    fm->fm_length = FIEMAP_MAX_OFFSET - start;
    fm->fm_flags = FIEMAP_FLAG_SYNC;
    fm->fm_extent_count = kExtents;
    if (ioctl(fd.get(), FS_IOC_FIEMAP, fm) != 0) Fail("fiemap " + Quote(path));
    if (fm->fm_mapped_extents == 0) return shared;
    bool last = false;
    for (unsigned i = 0; i < fm->fm_mapped_extents; ++i) {
      const fiemap_extent& e = fm->fm_extents[i];
      if (e.fe_flags & FIEMAP_EXTENT_SHARED) shared += e.fe_length;
      if (e.fe_flags & FIEMAP_EXTENT_LAST) last = true;
      start = e.fe_logical + e.fe_length;
    }
    if (last) return shared;
  }
}

std::vector<std::string> StagedLeftovers(const std::string& dir) {
  auto names = ListDir(dir);
  if (!names.ok()) throw std::runtime_error(names.error().message());
  std::vector<std::string> leftovers;
  for (const auto& n : *names) {
    if (n.find(".partial-") != std::string::npos) leftovers.push_back(n);
  }
  return leftovers;
}

void WriteAt(const std::string& path, uint64_t offset, const std::string& data) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) Fail("open " + Quote(path));
  if (pwrite(fd.get(), data.data(), data.size(), static_cast<off_t>(offset)) !=
      static_cast<ssize_t>(data.size()))
    Fail("write " + Quote(path));
  if (fsync(fd.get()) != 0) Fail("fsync " + Quote(path));
}

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Status CreateEmptyImage(const std::string& path, uint64_t size) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return Error::FromErrno("create " + Quote(path));
  if (ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
    return Error::FromErrno("size " + Quote(path));
  return OkStatus();
}

// Builds, attaches and mounts an image made by `mkfs_argv` + image path.
Result<MountedImage> MountImage(std::vector<std::string> mkfs_argv, const std::string& fstype,
                                uint64_t size) {
  MountedImage m;
  m.scratch = ScratchDir("banger-disk-fs-");
  m.image = JoinPath(m.scratch.path(), "fs.img");
  BANGER_RETURN_IF_ERROR(CreateEmptyImage(m.image, size));
  mkfs_argv.push_back(m.image);
  BANGER_RETURN_IF_ERROR(RunChecked(ExecRequest{.argv = mkfs_argv}));
  BANGER_ASSIGN_OR_RETURN(m.loop, LoopDevice::Attach(m.image));
  const std::string target = JoinPath(m.scratch.path(), "mnt");
  BANGER_RETURN_IF_ERROR(MakeDirs(target));
  BANGER_ASSIGN_OR_RETURN(m.mount, ScopedMount::Mount(m.loop.device(), target, fstype));
  return m;
}

}  // namespace

Result<LoopDevice> LoopDevice::Attach(const std::string& file) {
  BANGER_ASSIGN_OR_RETURN(ExecResult r,
                          RunChecked(ExecRequest{.argv = {"losetup", "--find", "--show", file}}));
  std::string device = Trim(r.out);
  if (device.rfind("/dev/loop", 0) != 0)
    return Internal("losetup printed " + Quote(device) + " for " + Quote(file));
  return LoopDevice(device);
}

LoopDevice::~LoopDevice() { Detach(); }

LoopDevice& LoopDevice::operator=(LoopDevice&& other) noexcept {
  if (this != &other) {
    Detach();
    device_ = std::exchange(other.device_, {});
  }
  return *this;
}

void LoopDevice::Detach() {
  if (device_.empty()) return;
  // Right after an unmount the device can still be briefly busy.
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto r = SystemRunner().Run(ExecRequest{.argv = {"losetup", "-d", device_}});
    if (r.ok() && r->success()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  device_.clear();
}

Result<ScopedMount> ScopedMount::Mount(const std::string& source, const std::string& target,
                                       const std::string& fstype, const std::string& options) {
  if (mount(source.c_str(), target.c_str(), fstype.c_str(), 0,
            options.empty() ? nullptr : options.c_str()) != 0) {
    return Error::FromErrno("mount " + fstype + " " + Quote(source) + " on " + Quote(target));
  }
  return ScopedMount(target);
}

ScopedMount::~ScopedMount() { Unmount(); }

ScopedMount& ScopedMount::operator=(ScopedMount&& other) noexcept {
  if (this != &other) {
    Unmount();
    target_ = std::exchange(other.target_, {});
  }
  return *this;
}

void ScopedMount::Unmount() {
  if (target_.empty()) return;
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (umount2(target_.c_str(), 0) == 0 || errno == EINVAL || errno == ENOENT) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  target_.clear();
}

Result<MountedImage> MountXfsWithReflink(uint64_t size) {
  return MountImage({"mkfs.xfs", "-q", "-m", "reflink=1"}, "xfs", size);
}

Result<MountedImage> MountExt4(uint64_t size) {
  return MountImage({"mkfs.ext4", "-q", "-F"}, "ext4", size);
}

Result<ScopedMount> MountTmpfs(const std::string& scratch) {
  const std::string target = JoinPath(scratch, "tmpfs");
  BANGER_RETURN_IF_ERROR(MakeDirs(target));
  return ScopedMount::Mount("banger-test", target, "tmpfs", "size=256m");
}

Result<bool> IsMountPoint(const std::string& dir) {
  BANGER_ASSIGN_OR_RETURN(std::string info, ReadFile("/proc/self/mountinfo"));
  std::istringstream lines(info);
  std::string line;
  while (std::getline(lines, line)) {
    // Fields: id parent major:minor root mount-point ...
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point == dir) return true;
  }
  return false;
}

Result<std::vector<std::string>> LoopDevicesFor(const std::string& file) {
  // `losetup -a` rather than `-j FILE`: it still lists a device whose
  // backing file has already been removed with the scratch dir.
  BANGER_ASSIGN_OR_RETURN(ExecResult r, RunChecked(ExecRequest{.argv = {"losetup", "-a"}}));
  std::vector<std::string> devices;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find(file) != std::string::npos) devices.push_back(line.substr(0, line.find(':')));
  }
  return devices;
}

}  // namespace banger::testing
