// /etc/banger/system.json: what `banger system install` set up, so that
// `system status`, `restart` and `uninstall` act on exactly that (the
// owner, the state dir the daemon keeps, the files it wrote) and nothing
// they would have to guess.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/system/units.h"

namespace banger::system {

inline constexpr const char* kRecordPath = "/etc/banger/system.json";

struct InstallRecord {
  InstallLayout layout;
  std::vector<std::string> unit_files;  // written by install, removed by uninstall
  std::vector<std::string> binaries;    // copied by install (not ones already in place)
  std::string build;                    // BuildString() of the installing banger
};

// Atomically replaced, 0644 (status runs as the owner too).
Status WriteInstallRecord(const std::string& path, const InstallRecord& record);
// nullopt when nothing is installed. kCorruption naming the file and key
// when it is malformed.
Result<std::optional<InstallRecord>> ReadInstallRecord(const std::string& path);

}  // namespace banger::system
