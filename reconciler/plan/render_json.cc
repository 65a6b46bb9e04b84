#include <map>

#include "reconciler/os/fs.h"
#include "reconciler/plan/render.h"
#include "specs/spec_json.h"

namespace banger::plan {
namespace {

using nlohmann::json;

constexpr int kFormatVersion = 1;

template <typename E>
Result<E> EnumFromName(const std::string& name, const std::map<std::string, E>& table,
                       const char* what) {
  auto it = table.find(name);
  if (it == table.end()) return Error(Code::kCorruption, std::string("unknown ") + what + " " + Quote(name));
  return it->second;
}

const std::map<std::string, Action>& Actions() {
  static const std::map<std::string, Action> m = {
      {"no-op", Action::kNoOp},     {"create", Action::kCreate},
      {"update", Action::kUpdate},  {"restart", Action::kRestart},
      {"replace", Action::kReplace}, {"delete", Action::kDelete}};
  return m;
}

const std::map<std::string, ResourceKind>& Kinds() {
  static const std::map<std::string, ResourceKind> m = {
      {"settings", ResourceKind::kSettings}, {"kernel", ResourceKind::kKernel},
      {"image", ResourceKind::kImage},       {"file_sync", ResourceKind::kFileSync},
      {"vm", ResourceKind::kVm},             {"snapshot", ResourceKind::kSnapshot}};
  return m;
}

Result<Step> StepFromJson(const json& j) {
  Step s;
  s.address = j.at("address").get<std::string>();
  BANGER_ASSIGN_OR_RETURN(s.kind, EnumFromName(j.at("kind").get<std::string>(), Kinds(), "kind"));
  s.name = j.at("name").get<std::string>();
  BANGER_ASSIGN_OR_RETURN(s.action, EnumFromName(j.at("action").get<std::string>(), Actions(), "action"));
  s.drift = j.at("drift").get<bool>();
  s.keep_work_disk = j.at("keep_work_disk").get<bool>();
  s.depends_on = j.at("depends_on").get<std::vector<std::string>>();
  for (const auto& cj : j.at("changes")) {
    Change c;
    c.field = cj.at("field").get<std::string>();
    c.before = cj.at("before").get<std::string>();
    c.after = cj.at("after").get<std::string>();
    BANGER_ASSIGN_OR_RETURN(c.consequence, EnumFromName(cj.at("consequence").get<std::string>(), Actions(), "action"));
    c.reason = cj.at("reason").get<std::string>();
    s.changes.push_back(std::move(c));
  }
  return s;
}

}  // namespace

json PlanToJson(const Plan& plan) {
  json steps = json::array();
  for (const auto& s : plan.steps) {
    json changes = json::array();
    for (const auto& c : s.changes) {
      changes.push_back({{"field", c.field},
                         {"before", c.before},
                         {"after", c.after},
                         {"consequence", ActionName(c.consequence)},
                         {"reason", c.reason}});
    }
    steps.push_back({{"address", s.address},
                     {"kind", KindName(s.kind)},
                     {"name", s.name},
                     {"action", ActionName(s.action)},
                     {"drift", s.drift},
                     {"keep_work_disk", s.keep_work_disk},
                     {"depends_on", s.depends_on},
                     {"changes", changes}});
  }
  json drift = json::array();
  for (const auto& d : plan.drift) drift.push_back({{"address", d.address}, {"what", d.what}});
  json withheld = json::array();
  for (const auto& w : plan.withheld)
    withheld.push_back({{"address", w.address}, {"reason", w.reason}});
  const Counts c = plan.counts();
  return {{"format_version", kFormatVersion},
          {"serial", plan.serial},
          {"observation_complete", plan.observation_complete},
          {"withheld", withheld},
          {"steps", steps},
          {"drift", drift},
          {"notes", plan.notes},
          {"warnings", plan.warnings},
          {"errors", plan.errors},
          {"summary",
           {{"create", c.create}, {"update", c.update}, {"restart", c.restart},
            {"replace", c.replace}, {"delete", c.remove}}}};
}

Result<Plan> PlanFromJson(const json& j) {
  try {
    if (j.at("format_version").get<int>() != kFormatVersion)
      return Error(Code::kCorruption, "unsupported plan format version " +
                                          j.at("format_version").dump());
    Plan p;
    p.serial = j.at("serial").get<int64_t>();
    p.observation_complete = j.at("observation_complete").get<bool>();
    for (const auto& sj : j.at("steps")) {
      BANGER_ASSIGN_OR_RETURN(Step s, StepFromJson(sj));
      p.steps.push_back(std::move(s));
    }
    for (const auto& dj : j.at("drift"))
      p.drift.push_back({dj.at("address").get<std::string>(), dj.at("what").get<std::string>()});
    for (const auto& wj : j.at("withheld"))
      p.withheld.push_back({wj.at("address").get<std::string>(), wj.at("reason").get<std::string>()});
    p.notes = j.at("notes").get<std::vector<std::string>>();
    p.warnings = j.at("warnings").get<std::vector<std::string>>();
    p.errors = j.at("errors").get<std::vector<std::string>>();
    return p;
  } catch (const json::exception& e) {
    return Error(Code::kCorruption, std::string("malformed plan: ") + e.what());
  }
}

std::string SavedPlanToString(const SavedPlan& saved) {
  json j = {{"banger_saved_plan", kFormatVersion},
            {"state_dir", saved.state_dir},
            {"plan", PlanToJson(saved.plan)},
            {"desired", specs::ToJson(saved.desired)}};
  return j.dump(2) + "\n";
}

Result<SavedPlan> LoadSavedPlan(const std::string& path) {
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("banger_saved_plan"))
    return Error(Code::kCorruption, "read plan " + Quote(path) + ": not a saved banger plan");
  SavedPlan saved;
  try {
    saved.state_dir = j.at("state_dir").get<std::string>();
  } catch (const json::exception& e) {
    return Error(Code::kCorruption, "read plan " + Quote(path) + ": " + e.what());
  }
  auto plan = PlanFromJson(j["plan"]);
  if (!plan.ok()) return std::move(plan).error().WithContext("read plan " + Quote(path));
  saved.plan = std::move(plan).value();
  auto desired = specs::DesiredFromJson(j["desired"]);
  if (!desired.ok()) return std::move(desired).error().WithContext("read plan " + Quote(path));
  saved.desired = std::move(desired).value();
  return saved;
}

}  // namespace banger::plan
