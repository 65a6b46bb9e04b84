#include "reconciler/system/install_record.h"

#include <cerrno>

#include <nlohmann/json.hpp>

#include "reconciler/os/fs.h"

namespace banger::system {

using nlohmann::json;

Status WriteInstallRecord(const std::string& path, const InstallRecord& record) {
  const InstallLayout& l = record.layout;
  json j = {{"owner", l.owner},
            {"uid", l.owner_uid},
            {"gid", l.owner_gid},
            {"bin_dir", l.bin_dir},
            {"state_dir", l.state_dir},
            {"unit_files", record.unit_files},
            {"binaries", record.binaries},
            {"build", record.build}};
  BANGER_RETURN_IF_ERROR(MakeDirs(Dirname(path), 0755));
  return AtomicWriteFile(path, j.dump(2) + "\n", 0644);
}

Result<std::optional<InstallRecord>> ReadInstallRecord(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (text.error().sys_errno() == ENOENT) return std::optional<InstallRecord>();
    return std::move(text).error();
  }
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(Code::kCorruption, Quote(path) + ": not a JSON object");
  }
  static const char* const kKeys[] = {"owner", "uid", "gid", "bin_dir", "state_dir",
                                      "unit_files", "binaries", "build"};
  for (const auto& [key, value] : j.items()) {
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      return Error(Code::kCorruption, Quote(path) + ": unknown key " + Quote(key));
    }
  }
  InstallRecord r;
  const char* at = "";
  try {
    at = "owner";
    r.layout.owner = j.at(at).get<std::string>();
    at = "uid";
    r.layout.owner_uid = j.at(at).get<uid_t>();
    at = "gid";
    r.layout.owner_gid = j.at(at).get<gid_t>();
    at = "bin_dir";
    r.layout.bin_dir = j.at(at).get<std::string>();
    at = "state_dir";
    r.layout.state_dir = j.at(at).get<std::string>();
    at = "unit_files";
    r.unit_files = j.at(at).get<std::vector<std::string>>();
    at = "binaries";
    r.binaries = j.at(at).get<std::vector<std::string>>();
    at = "build";
    r.build = j.at(at).get<std::string>();
  } catch (const json::exception& e) {
    return Error(Code::kCorruption, Quote(path) + ": key " + Quote(at) + ": " + e.what());
  }
  for (const std::string& p : r.unit_files) BANGER_RETURN_IF_ERROR(ValidateUnitPath("unit file", p));
  for (const std::string& p : r.binaries) BANGER_RETURN_IF_ERROR(ValidateUnitPath("binary", p));
  return std::optional<InstallRecord>(std::move(r));
}

}  // namespace banger::system
