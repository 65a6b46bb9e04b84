#include "reconciler/plan/step_order.h"

#include <algorithm>
#include <set>
#include <string>

namespace banger::plan {
namespace {

// Run order of phases; deletions run after everything else, users before
// what they use. Within the order, a step never comes before a step it
// depends on (a clone after its snapshot, a snapshot after its source VM).
int Phase(const Step& s) {
  if (s.action == Action::kDelete) {
    switch (s.kind) {
      case ResourceKind::kVm: return 10;
      case ResourceKind::kSnapshot: return 11;
      case ResourceKind::kFileSync: return 12;
      case ResourceKind::kImage: return 13;
      case ResourceKind::kKernel: return 14;
      case ResourceKind::kSettings: return 15;
    }
  }
  return static_cast<int>(s.kind);
}

}  // namespace

void OrderSteps(std::vector<Step>* steps) {
  std::stable_sort(steps->begin(), steps->end(), [](const Step& a, const Step& b) {
    int pa = Phase(a), pb = Phase(b);
    if (pa != pb) return pa < pb;
    return a.name < b.name;
  });
  std::set<std::string> present;
  for (const Step& s : *steps) present.insert(s.address);
  std::vector<Step> ordered;
  std::set<std::string> placed;
  std::vector<bool> done(steps->size(), false);
  while (ordered.size() < steps->size()) {
    bool progressed = false;
    for (size_t i = 0; i < steps->size(); ++i) {
      if (done[i]) continue;
      const Step& s = (*steps)[i];
      bool ready = std::all_of(s.depends_on.begin(), s.depends_on.end(), [&](const auto& d) {
        return placed.count(d) || !present.count(d);
      });
      if (!ready) continue;
      done[i] = progressed = true;
      placed.insert(s.address);
      ordered.push_back(s);
      break;  // start again from the front: earlier steps may be ready now
    }
    if (!progressed) return;  // a dependency cycle: keep the phase order
  }
  *steps = std::move(ordered);
}

}  // namespace banger::plan
