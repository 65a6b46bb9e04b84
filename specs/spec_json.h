// Canonical JSON form of each spec kind: how applied specs are stored in
// SQLite and how saved plans carry the desired state. Round-trips exactly
// (FromJson(ToJson(x)) == x); source locations are not part of it.
#pragma once

#include <nlohmann/json.hpp>

#include "reconciler/base/error.h"
#include "specs/desired.h"

namespace banger::specs {

nlohmann::json ToJson(const Settings& s);
nlohmann::json ToJson(const KernelSpec& k);
nlohmann::json ToJson(const ImageSpec& i);
nlohmann::json ToJson(const FileSyncSpec& f);
nlohmann::json ToJson(const VmSpec& v);
nlohmann::json ToJson(const SnapshotSpec& s);
nlohmann::json ToJson(const DesiredState& d);

// Each fails with Code::kCorruption naming the missing or mistyped field.
Result<Settings> SettingsFromJson(const nlohmann::json& j);
Result<KernelSpec> KernelFromJson(const nlohmann::json& j);
Result<ImageSpec> ImageFromJson(const nlohmann::json& j);
Result<FileSyncSpec> FileSyncFromJson(const nlohmann::json& j);
Result<VmSpec> VmFromJson(const nlohmann::json& j);
Result<SnapshotSpec> SnapshotFromJson(const nlohmann::json& j);
Result<DesiredState> DesiredFromJson(const nlohmann::json& j);

}  // namespace banger::specs
