#include "reconciler/plan/render.h"

namespace banger::plan {
namespace {

const char* ColorOf(Action a) {
  switch (a) {
    case Action::kCreate: return "\033[32m";   // green
    case Action::kUpdate: return "\033[33m";   // yellow
    case Action::kRestart: return "\033[36m";  // cyan
    case Action::kReplace: return "\033[35m";  // magenta
    case Action::kDelete: return "\033[31m";   // red
    case Action::kNoOp: return "";
  }
  return "";
}

class Text {
 public:
  explicit Text(bool color) : color_(color) {}
  std::string Paint(const std::string& s, const char* code) const {
    if (!color_ || !*code) return s;
    return std::string(code) + s + "\033[0m";
  }
  std::string Bold(const std::string& s) const { return Paint(s, "\033[1m"); }

 private:
  bool color_;
};

std::string StepSuffix(const Step& s) {
  std::string suffix;
  if (s.kind == ResourceKind::kVm &&
      (s.action == Action::kReplace || s.action == Action::kDelete)) {
    suffix = s.keep_work_disk ? " (work disk kept)" : " (work disk deleted)";
  }
  if (s.drift) suffix += " [repair]";
  return suffix;
}

}  // namespace

std::string RenderCounts(const Counts& c) {
  return std::to_string(c.create) + " to create, " + std::to_string(c.update) +
         " to update, " + std::to_string(c.restart) + " to restart, " +
         std::to_string(c.replace) + " to replace, " + std::to_string(c.remove) +
         " to delete";
}

std::string RenderText(const Plan& plan, const TextOptions& options) {
  Text t(options.color);
  std::string out;
  if (!plan.drift.empty()) {
    out += t.Bold("Drift (changed outside banger):") + "\n";
    for (const auto& d : plan.drift) out += "  " + d.address + ": " + d.what + "\n";
    out += "\n";
  }
  for (const auto& s : plan.steps) {
    std::string symbol(ActionSymbol(s.action));
    out += t.Paint(symbol, ColorOf(s.action)) + std::string(symbol.size() < 3 ? 4 - symbol.size() : 1, ' ') +
           t.Bold(s.address) + StepSuffix(s) + "\n";
    for (const auto& c : s.changes) out += "      " + c.reason + "\n";
  }
  if (!plan.steps.empty()) out += "\n";
  for (const auto& n : plan.notes) out += "Note: " + n + "\n";
  for (const auto& w : plan.warnings) out += t.Paint("Warning: ", "\033[33m") + w + "\n";
  for (const auto& e : plan.errors) out += t.Paint("Error: ", "\033[31m") + e + "\n";
  if (!plan.withheld.empty()) {
    const size_t n = plan.withheld.size();
    std::string addresses;
    for (const auto& w : plan.withheld) addresses += (addresses.empty() ? "" : ", ") + w.address;
    out += t.Paint(std::to_string(n) + (n == 1 ? " deletion" : " deletions") + " withheld: ",
                   "\033[33m") +
           addresses + " (" + plan.withheld.front().reason + ")\n";
  }
  if (plan.steps.empty() && plan.errors.empty() && plan.observation_complete) {
    out += "No changes. The host matches the spec.\n";
  } else if (plan.steps.empty() && plan.errors.empty()) {
    out += "No changes planned, but the host could not be fully observed: it may not match "
           "the spec. Fix what is unreadable and plan again.\n";
  } else {
    out += t.Bold("Plan: ") + RenderCounts(plan.counts()) + ".\n";
  }
  return out;
}

}  // namespace banger::plan
