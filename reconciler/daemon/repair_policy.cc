#include "reconciler/daemon/repair_policy.h"

#include <algorithm>

namespace banger::daemon {
namespace {

using plan::Action;
using plan::ResourceKind;

// Whether the step only repairs drift of a VM that should be running (its
// VMM or tap is gone), as opposed to a change the spec asks for.
bool IsRepair(const plan::Step& step) {
  if (step.kind != ResourceKind::kVm || !step.drift || step.action != Action::kRestart)
    return false;
  return std::all_of(step.changes.begin(), step.changes.end(),
                     [](const plan::Change& c) { return c.consequence == Action::kRestart; });
}

std::string FormatSeconds(int64_t s) {
  if (s < 120) return std::to_string(s) + " s";
  return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
}

}  // namespace

int64_t BackoffSeconds(int failures) {
  if (failures <= 0) return 0;
  int64_t s = kFirstBackoffSeconds;
  for (int i = 1; i < failures && s < kMaxBackoffSeconds; ++i) s *= 2;
  return std::min(s, kMaxBackoffSeconds);
}

DaemonPlan SelectDaemonSteps(const PolicyInputs& in) {
  DaemonPlan out;
  out.run = *in.plan;
  out.run.steps.clear();
  std::set<std::string> held_addresses;
  auto hold = [&](const plan::Step& s, std::string reason) {
    held_addresses.insert(s.address);
    out.held.push_back({s.address, std::move(reason)});
  };
  const bool destructive_ok = in.desired->settings.daemon_destructive;
  for (const plan::Step& step : in.plan->steps) {
    auto blocker = std::find_if(step.depends_on.begin(), step.depends_on.end(),
                                [&](const std::string& d) { return held_addresses.count(d) > 0; });
    if (blocker != step.depends_on.end()) {
      hold(step, "depends on " + *blocker + ", which is held");
      continue;
    }
    if (step.destructive() && !destructive_ok) {
      hold(step, std::string(plan::ActionName(step.action)) +
                     ": waits for `banger apply` (or settings.daemon_destructive = true)");
      continue;
    }
    if (IsRepair(step)) {
      const specs::VmSpec* spec = in.desired->FindVm(step.name);
      const auto policy = spec ? spec->restart : specs::RestartPolicy::kAlways;
      if (policy == specs::RestartPolicy::kNever) {
        hold(step, "restart = \"never\": waits for `banger apply`");
        continue;
      }
      if (policy == specs::RestartPolicy::kOnFailure && in.powered_off.count(step.name)) {
        hold(step, "the guest powered itself off and restart = \"on-failure\"");
        continue;
      }
      auto mem = in.vms->find(step.name);
      if (mem != in.vms->end() && mem->second.next_attempt_at > in.now) {
        hold(step, "backing off after " + std::to_string(mem->second.failures_in_a_row) +
                       (mem->second.failures_in_a_row == 1 ? " repair" : " repairs in a row") +
                       "; next try in " + FormatSeconds(mem->second.next_attempt_at - in.now));
        continue;
      }
      out.repairs.insert(step.name);
    }
    out.run.steps.push_back(step);
  }
  return out;
}

void RecordRepairs(std::map<std::string, VmRepairState>& vms, const std::set<std::string>& repaired,
                   const std::map<std::string, std::string>& failed,
                   const std::set<std::string>& running, int64_t now) {
  for (const std::string& name : running) {
    VmRepairState& v = vms[name];
    if (v.healthy_since == 0) v.healthy_since = now;
    // Up long enough since it last came back: the next death starts afresh.
    if (now - v.healthy_since >= kHealthyResetSeconds) {
      v.failures_in_a_row = 0;
      v.next_attempt_at = 0;
    }
  }
  auto attempt = [&](const std::string& name) -> VmRepairState& {
    VmRepairState& v = vms[name];
    // A repair after a long healthy run is the first of a new series.
    if (v.healthy_since > 0 && now - v.healthy_since >= kHealthyResetSeconds)
      v.failures_in_a_row = 0;
    ++v.failures_in_a_row;
    v.next_attempt_at = now + BackoffSeconds(v.failures_in_a_row);
    return v;
  };
  for (const std::string& name : repaired) {
    VmRepairState& v = attempt(name);
    ++v.restarts;
    v.healthy_since = now;
    v.last_error.clear();
  }
  for (const auto& [name, error] : failed) {
    VmRepairState& v = attempt(name);
    v.healthy_since = 0;
    v.last_error = error;
  }
}

}  // namespace banger::daemon
