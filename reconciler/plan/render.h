// Views of a Plan: human text and JSON, both rendered from the same
// structure so they cannot disagree. A saved plan file carries the JSON plan
// plus the desired state it was made from, so `apply plan.json` applies
// exactly what was shown.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "reconciler/base/error.h"
#include "reconciler/plan/plan.h"
#include "specs/desired.h"

namespace banger::plan {

struct TextOptions {
  bool color = false;  // ANSI colours (terminals only)
};

// Multi-line text: drift, steps with reasons beneath, notes, warnings,
// errors, and the closing count line.
std::string RenderText(const Plan& plan, const TextOptions& options = {});

// "2 to create, 0 to update, 1 to restart, 0 to replace, 1 to delete"
std::string RenderCounts(const Counts& counts);

nlohmann::json PlanToJson(const Plan& plan);
Result<Plan> PlanFromJson(const nlohmann::json& j);

// A saved plan: the plan, the desired state and the state dir it targets.
struct SavedPlan {
  Plan plan;
  specs::DesiredState desired;
  std::string state_dir;
};

std::string SavedPlanToString(const SavedPlan& saved);
// Fails with kCorruption naming `path` when the file is not a saved plan.
Result<SavedPlan> LoadSavedPlan(const std::string& path);

}  // namespace banger::plan
