#include "helper/dm_snapshot.h"

#include <sys/stat.h>

namespace banger::helper {

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
