#include "reconciler/daemon/daemon_files.h"

#include <cerrno>

#include <nlohmann/json.hpp>

#include "reconciler/os/fs.h"
#include "reconciler/os/process.h"

namespace banger::daemon {
namespace {

using nlohmann::json;

Error Corrupt(const std::string& path, const std::string& problem) {
  return Error(Code::kCorruption, Quote(path) + ": " + problem);
}

// Parses `path`; nullopt when it does not exist. Field types are checked by
// the reader's get<>() calls, whose exceptions become kCorruption.
Result<std::optional<json>> ReadJson(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (text.error().sys_errno() == ENOENT) return std::optional<json>();
    return std::move(text).error();
  }
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corrupt(path, "not valid JSON");
  if (!j.is_object()) return Corrupt(path, std::string("expected an object, got ") + j.type_name());
  return std::optional<json>(std::move(j));
}

Status WriteJson(const std::string& state_dir, const std::string& path, const json& j) {
  BANGER_RETURN_IF_ERROR(MakeDirs(DaemonDir(state_dir), 0700));
  return AtomicWriteFile(path, j.dump(2) + "\n", 0600);
}

}  // namespace

std::string DaemonDir(const std::string& state_dir) { return JoinPath(state_dir, "daemon"); }
std::string AppliedPath(const std::string& state_dir) {
  return JoinPath(DaemonDir(state_dir), "applied.json");
}
std::string StatusPath(const std::string& state_dir) {
  return JoinPath(DaemonDir(state_dir), "status.json");
}

Status WriteAppliedSpecs(const std::string& state_dir, const std::vector<std::string>& files) {
  return WriteJson(state_dir, AppliedPath(state_dir), json{{"files", files}});
}

Result<std::vector<std::string>> ReadAppliedSpecs(const std::string& state_dir) {
  const std::string path = AppliedPath(state_dir);
  BANGER_ASSIGN_OR_RETURN(std::optional<json> j, ReadJson(path));
  if (!j) return std::vector<std::string>();
  try {
    auto files = j->at("files").get<std::vector<std::string>>();
    for (const auto& f : files)
      if (f.empty() || f[0] != '/') return Corrupt(path, "spec path " + Quote(f) + " is not absolute");
    return files;
  } catch (const json::exception& e) {
    return Corrupt(path, e.what());
  }
}

Status WriteDaemonStatus(const std::string& state_dir, const DaemonStatus& s) {
  json vms = json::object();
  for (const auto& [name, v] : s.vms) {
    vms[name] = {{"restarts", v.restarts},
                 {"failures_in_a_row", v.failures_in_a_row},
                 {"next_attempt_at", v.next_attempt_at},
                 {"healthy_since", v.healthy_since},
                 {"last_error", v.last_error},
                 {"waiting_for_apply", v.waiting_for_apply}};
  }
  json j = {{"pid", s.pid},
            {"pid_start_ticks", s.pid_start_ticks},
            {"build", s.build},
            {"started_at", s.started_at},
            {"heartbeat_at", s.heartbeat_at},
            {"interval_seconds", s.interval_seconds},
            {"last_cycle_error", s.last_cycle_error},
            {"vms", vms}};
  return WriteJson(state_dir, StatusPath(state_dir), j);
}

Result<std::optional<DaemonStatus>> ReadDaemonStatus(const std::string& state_dir) {
  const std::string path = StatusPath(state_dir);
  BANGER_ASSIGN_OR_RETURN(std::optional<json> j, ReadJson(path));
  if (!j) return std::optional<DaemonStatus>();
  DaemonStatus s;
  try {
    s.pid = j->at("pid").get<pid_t>();
    s.pid_start_ticks = j->at("pid_start_ticks").get<uint64_t>();
    s.build = j->at("build").get<std::string>();
    s.started_at = j->at("started_at").get<int64_t>();
    s.heartbeat_at = j->at("heartbeat_at").get<int64_t>();
    s.interval_seconds = j->at("interval_seconds").get<int>();
    s.last_cycle_error = j->at("last_cycle_error").get<std::string>();
    for (const auto& [name, v] : j->at("vms").items()) {
      VmRepairState r;
      r.restarts = v.at("restarts").get<int>();
      r.failures_in_a_row = v.at("failures_in_a_row").get<int>();
      r.next_attempt_at = v.at("next_attempt_at").get<int64_t>();
      r.healthy_since = v.at("healthy_since").get<int64_t>();
      r.last_error = v.at("last_error").get<std::string>();
      r.waiting_for_apply = v.at("waiting_for_apply").get<std::string>();
      s.vms[name] = std::move(r);
    }
  } catch (const json::exception& e) {
    return Corrupt(path, e.what());
  }
  if (s.interval_seconds <= 0) return Corrupt(path, "interval_seconds must be positive");
  return std::optional<DaemonStatus>(std::move(s));
}

bool DaemonAlive(const DaemonStatus& s, int64_t now) {
  if (s.pid <= 0 || !ProcessAlive(s.pid, s.pid_start_ticks)) return false;
  // The first cycle may take long (it can boot VMs): a daemon is alive from
  // its start until three intervals after its last heartbeat.
  const int64_t last = std::max(s.started_at, s.heartbeat_at);
  return now - last <= 3 * static_cast<int64_t>(s.interval_seconds);
}

}  // namespace banger::daemon
