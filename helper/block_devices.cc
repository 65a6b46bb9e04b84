#include "helper/block_devices.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "reconciler/os/unique_fd.h"

namespace banger::helper {

Result<AttachedLoop> AttachLoop(int backing_fd, bool read_only, const std::string& label) {
  UniqueFd control(open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!control.valid()) return Error::FromErrno("attach loop: open '/dev/loop-control'");

  // GET_FREE then CONFIGURE is not atomic: another process may bind the same
  // device in between (EBUSY). Ask again a bounded number of times.
  for (int attempt = 0; attempt < 16; ++attempt) {
    int index = ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (index < 0) return Error::FromErrno("attach loop: find a free loop device");
    std::string device = "/dev/loop" + std::to_string(index);
    UniqueFd loop(open(device.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC));
    if (!loop.valid()) return Error::FromErrno("attach loop: open " + Quote(device));

    loop_config config{};
    config.fd = static_cast<uint32_t>(backing_fd);
    config.info.lo_flags = read_only ? LO_FLAGS_READ_ONLY : 0;
    std::strncpy(reinterpret_cast<char*>(config.info.lo_file_name), label.c_str(),
                 LO_NAME_SIZE - 1);
    if (ioctl(loop.get(), LOOP_CONFIGURE, &config) != 0) {
      if (errno == EBUSY) continue;
      return Error::FromErrno("attach loop " + Quote(device));
    }
    loop_info64 info{};
    if (ioctl(loop.get(), LOOP_GET_STATUS64, &info) != 0) {
      int err = errno;
      ioctl(loop.get(), LOOP_CLR_FD, 0);
      return Error::FromErrno("attach loop " + Quote(device) + ": read status", err);
    }
    return AttachedLoop{device, info.lo_inode, info.lo_device};
  }
  return Error(Code::kBusy, "attach loop: every free loop device was taken by another process");
}

Status DetachLoop(const std::string& device, uint64_t inode, uint64_t dev) {
  std::string what = "detach loop " + Quote(device);
  UniqueFd loop(open(device.c_str(), O_RDONLY | O_CLOEXEC));
  if (!loop.valid()) {
    if (errno == ENOENT || errno == ENXIO) return OkStatus();  // the device is gone
    return Error::FromErrno(what);
  }
  loop_info64 info{};
  if (ioctl(loop.get(), LOOP_GET_STATUS64, &info) != 0) {
    if (errno == ENXIO) return OkStatus();  // not bound any more
    return Error::FromErrno(what + ": read status");
  }
  if (info.lo_inode != inode || info.lo_device != dev) {
    return Error(Code::kPermissionDenied,
                 what + ": it now backs a different file, not the one the helper attached");
  }
  // While the device is still open elsewhere the kernel defers the
  // detach to the last close (autoclear) and returns success.
  if (ioctl(loop.get(), LOOP_CLR_FD, 0) != 0) return Error::FromErrno(what);
  return OkStatus();
}

Result<uint64_t> BlockDeviceSize(const std::string& device) {
  UniqueFd fd(open(device.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno("open " + Quote(device));
  uint64_t size = 0;
  if (ioctl(fd.get(), BLKGETSIZE64, &size) != 0) {
    return Error::FromErrno("size of " + Quote(device));
  }
  return size;
}

// ---- device-mapper ----------------------------------------------------------

Status CheckDeviceMapper(const std::string& control_path, const std::string& dmsetup_path) {
  struct stat st {};
  if (stat(control_path.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) {
    return Error(Code::kUnavailable, "device-mapper is not available on this host (no " +
                                         Quote(control_path) + ")");
  }
  if (dmsetup_path.empty()) {
    return Error(Code::kUnavailable,
                 "device-mapper is not available on this host (dmsetup is not installed)");
  }
  return OkStatus();
}

std::string DmSnapshotTable(uint64_t origin_sectors, const std::string& origin,
                            const std::string& cow, bool persistent, uint32_t chunk_sectors) {
  return "0 " + std::to_string(origin_sectors) + " snapshot " + origin + " " + cow + " " +
         (persistent ? "P" : "N") + " " + std::to_string(chunk_sectors);
}

std::vector<std::string> DmCreateArgv(const std::string& dmsetup, const std::string& name,
                                      const std::string& table) {
  return {dmsetup, "create", name, "--table", table};
}

std::vector<std::string> DmRemoveArgv(const std::string& dmsetup, const std::string& name) {
  return {dmsetup, "remove", name};
}

std::string DmDevicePath(const std::string& name) { return "/dev/mapper/" + name; }

}  // namespace banger::helper
