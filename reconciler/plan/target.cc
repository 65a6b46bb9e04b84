#include <set>

#include "reconciler/plan/planner.h"

namespace banger::plan {

Plan TargetPlan(Plan plan, const std::vector<std::string>& targets) {
  if (targets.empty()) return plan;
  std::set<std::string> keep;
  std::vector<std::string> todo;
  for (const auto& t : targets) {
    if (!plan.Find(t)) {
      plan.notes.push_back("target " + t + " has no changes");
      continue;
    }
    todo.push_back(t);
  }
  while (!todo.empty()) {
    std::string a = todo.back();
    todo.pop_back();
    if (!keep.insert(a).second) continue;
    if (const Step* s = plan.Find(a))
      for (const auto& d : s->depends_on) todo.push_back(d);
  }
  std::vector<Step> kept;
  for (auto& s : plan.steps)
    if (keep.count(s.address)) kept.push_back(std::move(s));
  const size_t left = plan.steps.size() - kept.size();
  plan.steps = std::move(kept);
  if (left)
    plan.notes.push_back(std::to_string(left) + " other change" + (left == 1 ? "" : "s") +
                         " left for an apply without --target");
  return plan;
}

}  // namespace banger::plan
