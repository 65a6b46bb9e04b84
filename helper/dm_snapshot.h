// Device-mapper snapshots through `dmsetup`. Hosts without device-mapper
// (no /dev/mapper/control, or no dmsetup) get a clear error; the table and
// argv are built by pure functions so they are tested everywhere.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::helper {

inline constexpr const char* kDmControl = "/dev/mapper/control";

// Ok when the control node exists and dmsetup was found; else Unavailable:
// "device-mapper is not available on this host (no '/dev/mapper/control')".
Status CheckDeviceMapper(const std::string& control_path, const std::string& dmsetup_path);

// "0 <sectors> snapshot <origin> <cow> P|N <chunk>".
std::string DmSnapshotTable(uint64_t origin_sectors, const std::string& origin,
                            const std::string& cow, bool persistent, uint32_t chunk_sectors);

std::vector<std::string> DmCreateArgv(const std::string& dmsetup, const std::string& name,
                                      const std::string& table);
std::vector<std::string> DmRemoveArgv(const std::string& dmsetup, const std::string& name);

// "/dev/mapper/<name>".
std::string DmDevicePath(const std::string& name);

}  // namespace banger::helper
