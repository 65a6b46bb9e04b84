#include "reconciler/store/handles_file.h"

#include <cerrno>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "reconciler/os/fs.h"

namespace banger::store {

namespace {

using nlohmann::json;

// The string fields, in one table so writing and reading cannot disagree.
struct StringField {
  const char* key;
  std::string model::VmHandles::*member;
};

constexpr StringField kStringFields[] = {
    {"vmm", &model::VmHandles::vmm},
    {"accel", &model::VmHandles::accel},
    {"api_socket", &model::VmHandles::api_socket},
    {"channel_socket", &model::VmHandles::channel_socket},
    {"console_log", &model::VmHandles::console_log},
    {"tap", &model::VmHandles::tap},
    {"mac", &model::VmHandles::mac},
    {"rootfs", &model::VmHandles::rootfs},
    {"cow_method", &model::VmHandles::cow_method},
    {"work_disk", &model::VmHandles::work_disk},
};

Error Corrupt(const std::string& path, const std::string& problem) {
  return Error(Code::kCorruption, "handles file " + Quote(path) + ": " + problem);
}

Result<const json*> Field(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end()) return Corrupt(path, "missing field " + Quote(key));
  return &*it;
}

Error Mistyped(const std::string& path, const char* key, const char* expected, const json& v) {
  return Corrupt(path, "field " + Quote(key) + ": expected " + expected + ", got " +
                           v.type_name());
}

}  // namespace

Status WriteHandles(const std::string& path, const model::VmHandles& h) {
  json j = json::object();
  for (const StringField& f : kStringFields) j[f.key] = h.*f.member;
  j["jail"] = h.jail;
  j["pid"] = static_cast<int64_t>(h.pid);
  j["pid_start_ticks"] = h.pid_start_ticks;
  std::string text;
  try {
    text = j.dump(2) + "\n";
  } catch (const json::exception& e) {
    return InvalidArgument("write handles file " + Quote(path) + ": " + e.what());
  }
  return AtomicWriteFile(path, text, 0600);
}

Result<std::optional<model::VmHandles>> ReadHandles(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (text.error().sys_errno() == ENOENT) return std::optional<model::VmHandles>();
    return std::move(text).error();
  }
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corrupt(path, "not valid JSON");
  if (!j.is_object()) return Corrupt(path, std::string("expected an object, got ") + j.type_name());

  model::VmHandles h;
  std::set<std::string> known;
  for (const StringField& f : kStringFields) {
    known.insert(f.key);
    BANGER_ASSIGN_OR_RETURN(const json* v, Field(j, f.key, path));
    if (!v->is_string()) return Mistyped(path, f.key, "a string", *v);
    h.*f.member = v->get<std::string>();
  }

  // Optional: handles written before jails existed lack it.
  known.insert("jail");
  if (auto it = j.find("jail"); it != j.end()) {
    if (!it->is_string()) return Mistyped(path, "jail", "a string", *it);
    h.jail = it->get<std::string>();
  }

  known.insert("pid");
  BANGER_ASSIGN_OR_RETURN(const json* pid, Field(j, "pid", path));
  if (!pid->is_number_integer() || pid->get<int64_t>() < 0 ||
      pid->get<int64_t>() > std::numeric_limits<pid_t>::max())
    return Mistyped(path, "pid", "a process id", *pid);
  h.pid = static_cast<pid_t>(pid->get<int64_t>());

  known.insert("pid_start_ticks");
  BANGER_ASSIGN_OR_RETURN(const json* ticks, Field(j, "pid_start_ticks", path));
  if (!ticks->is_number_unsigned() && !(ticks->is_number_integer() && ticks->get<int64_t>() >= 0))
    return Mistyped(path, "pid_start_ticks", "a non-negative integer", *ticks);
  h.pid_start_ticks = ticks->get<uint64_t>();

  for (const auto& item : j.items()) {
    if (!known.count(item.key())) return Corrupt(path, "unknown field " + Quote(item.key()));
  }
  return std::optional<model::VmHandles>(std::move(h));
}

}  // namespace banger::store
