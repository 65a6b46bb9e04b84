#include "reconciler/plan/snapshot_plan.h"

#include <algorithm>

#include "reconciler/base/error.h"
#include "reconciler/plan/field_diff.h"

namespace banger::plan {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::vector<std::string> SnapshotSourceChanges(const ObservedSnapshot& snapshot,
                                               const specs::VmSpec& source_now,
                                               const model::VmRecord* source_record) {
  std::vector<std::string> out;
  auto field = [&](const char* name, const std::string& then, const std::string& now) {
    if (!then.empty() && then != now) out.push_back(std::string(name) + " " + then + " -> " + now);
  };
  field("image", snapshot.image, source_now.image);
  field("kernel", snapshot.kernel, source_now.kernel);
  if (snapshot.vcpus != 0) field("vcpus", std::to_string(snapshot.vcpus), std::to_string(source_now.vcpus));
  if (snapshot.memory != 0) field("memory", RenderSize(snapshot.memory), RenderSize(source_now.memory));
  if (source_record && source_record->spec.image == snapshot.image &&
      !snapshot.image_digest.empty() && !source_record->image_digest.empty() &&
      source_record->image_digest != snapshot.image_digest)
    out.push_back("image '" + snapshot.image + "' rebuilt");
  if (source_record && source_record->spec.kernel == snapshot.kernel &&
      !snapshot.kernel_digest.empty() && !source_record->kernel_digest.empty() &&
      source_record->kernel_digest != snapshot.kernel_digest)
    out.push_back("kernel '" + snapshot.kernel + "' rebuilt");
  return out;
}

std::vector<PlannedStep> PlanDeclaredSnapshots(const specs::DesiredState& desired,
                                               const Observed& observed,
                                               const ActionLookup& action_of, Plan* plan) {
  const model::StoreSnapshot& store = observed.store;
  std::vector<PlannedStep> steps;
  for (const specs::SnapshotSpec& s : desired.snapshots) {
    const std::string address = Address(ResourceKind::kSnapshot, s.name);
    const std::string source_address = Address(ResourceKind::kVm, s.vm);
    const specs::VmSpec* source = desired.FindVm(s.vm);
    if (!source) continue;  // the loader reports it
    auto source_rec = store.vms.find(s.vm);
    const model::VmRecord* source_record =
        source_rec == store.vms.end() ? nullptr : &source_rec->second;

    PlannedStep planned;
    planned.step.kind = ResourceKind::kSnapshot;
    planned.step.name = s.name;
    auto seen = observed.snapshots.find(s.name);
    if (seen == observed.snapshots.end()) {
      planned.step.action = Action::kCreate;
      planned.changes.push_back(MakeEvent("", "declared, not taken yet", Action::kCreate));
    } else if (!seen->second.declared && seen->second.source_vm != s.vm) {
      plan->errors.push_back(address + ": a snapshot named " + Quote(s.name) + " of vm " +
                             Quote(seen->second.source_vm) +
                             " was taken with `banger vm snapshot`; remove it (`banger snapshot "
                             "rm " + s.name + "`) or declare another name");
      continue;
    } else if (seen->second.source_vm != s.vm) {
      planned.changes.push_back(
          MakeChange("vm", seen->second.source_vm, s.vm, Action::kReplace));
    } else if (!seen->second.present) {
      Change c = MakeEvent("drift", "snapshot files missing", Action::kReplace);
      c.before = "snapshot files missing";
      planned.changes.push_back(std::move(c));
      planned.step.drift = true;
    } else {
      std::vector<std::string> stale = SnapshotSourceChanges(seen->second, *source, source_record);
      if (!stale.empty())
        plan->drift.push_back(
            {address, "vm." + s.vm + " changed since the snapshot was taken (" + Join(stale) +
                          "); its clones still start from the old state; rename the snapshot "
                          "to take a new one"});
      continue;
    }
    // Taken from the running source VM once its own step has converged.
    const Action source_action = action_of(source_address);
    if (source_action != Action::kNoOp && source_action != Action::kDelete)
      planned.step.depends_on.push_back(source_address);
    if (source_record && source_record->power == model::PowerIntent::kStopped &&
        source_action != Action::kCreate && source_action != Action::kReplace)
      plan->errors.push_back(address + ": vm." + s.vm + " is stopped; start it (`banger vm start " +
                             s.vm + "`) so the snapshot can be taken");
    steps.push_back(std::move(planned));
  }
  return steps;
}

std::vector<PlannedStep> PlanSnapshotDeletions(const specs::DesiredState& desired,
                                               const Observed& observed,
                                               const ActionLookup& action_of, Plan* plan) {
  std::vector<PlannedStep> steps;
  for (const auto& [name, snapshot] : observed.snapshots) {
    if (desired.FindSnapshot(name) || !snapshot.declared) continue;
    PlannedStep planned;
    planned.step.kind = ResourceKind::kSnapshot;
    planned.step.name = name;
    planned.step.action = Action::kDelete;
    std::vector<std::string> holders;
    for (const auto& [vm, vm_rec] : observed.store.vms) {
      auto restored = observed.restored_from.find(vm);
      if (vm_rec.spec.from_snapshot != name &&
          (restored == observed.restored_from.end() || restored->second != name))
        continue;
      const std::string vm_address = Address(ResourceKind::kVm, vm);
      const Action a = action_of(vm_address);
      // An undeclared VM a spec made goes in this plan (or is withheld with
      // it when observation is incomplete).
      const bool leaving = !desired.FindVm(vm) && vm_rec.origin == model::Origin::kSpec;
      if (a == Action::kDelete || a == Action::kReplace || leaving)
        planned.step.depends_on.push_back(vm_address);
      else
        holders.push_back(vm_address);
    }
    if (!holders.empty()) {
      plan->warnings.push_back(Address(ResourceKind::kSnapshot, name) +
                               " is no longer declared but " + Join(holders) +
                               (holders.size() == 1 ? " is" : " are") +
                               " restored from it; kept");
      continue;
    }
    planned.changes.push_back(MakeEvent("", "no longer declared", Action::kDelete));
    steps.push_back(std::move(planned));
  }
  return steps;
}

}  // namespace banger::plan
