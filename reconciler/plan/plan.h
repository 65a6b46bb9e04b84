// The plan: what apply would change and why, as one structure that both the
// text and the JSON views render.
//
// A step changes one resource (its address is "<kind>.<name>", e.g.
// "vm.web"). Its action is the strongest consequence of any of its field
// changes; each change carries its own reason ("memory 1G -> 2G: restart").
// Steps list the addresses they depend on; the executor runs independent
// steps in parallel and never runs a step before its dependencies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace banger::plan {

// Ordered by strength: a step's action is the max over its changes.
enum class Action { kNoOp, kUpdate, kRestart, kReplace, kCreate, kDelete };

enum class ResourceKind { kSettings, kKernel, kImage, kFileSync, kVm, kSnapshot };

std::string_view ActionName(Action a);          // "create", "update", ...
std::string_view ActionSymbol(Action a);        // "+", "~", "!", "-/+", "-"
std::string_view KindName(ResourceKind k);      // "settings", "kernel", ...

struct Change {
  std::string field;    // "memory", "image", "process"
  std::string before;   // rendered values; empty when not applicable
  std::string after;
  Action consequence = Action::kNoOp;
  // The reason line: "memory 1G -> 2G: restart".
  std::string reason;
};

struct Step {
  std::string address;  // "vm.web"
  ResourceKind kind = ResourceKind::kVm;
  std::string name;
  Action action = Action::kNoOp;
  std::vector<Change> changes;  // why; at least one unless action is no-op
  bool drift = false;           // repairs something observed outside banger
  // For VM replace/delete: whether /root's work disk survives.
  bool keep_work_disk = true;
  std::vector<std::string> depends_on;  // addresses of steps in this plan

  bool destructive() const {
    return action == Action::kReplace || action == Action::kDelete;
  }
};

// Something observed that differs from what banger last converged.
struct Drift {
  std::string address;
  std::string what;  // "process not running", "tap 'bg-web' missing"
};

// A deletion the planner would make but does not, because what it saw of
// the host was incomplete (a deletion from a partial picture could remove
// what only looks unused).
struct Withheld {
  std::string address;  // "vm.old"
  std::string reason;   // "vm 'web': handles unreadable: ..."
};

struct Counts {
  int create = 0, update = 0, restart = 0, replace = 0, remove = 0;
  int total() const { return create + update + restart + replace + remove; }
};

struct Plan {
  int64_t serial = 0;             // store serial this plan was made against
  std::vector<Step> steps;        // changes only (no no-ops), in run order
  std::vector<Drift> drift;       // reported apart from planned changes
  std::vector<std::string> notes;     // e.g. "vm.db is stopped; ..."
  std::vector<std::string> warnings;  // e.g. observation incomplete
  std::vector<std::string> errors;    // changes that cannot be planned
  bool observation_complete = true;   // false: no deletions were planned
  std::vector<Withheld> withheld;     // the deletions that were not planned

  Counts counts() const;
  bool has_changes() const { return !steps.empty(); }
  bool has_destructive() const;
  const Step* Find(std::string_view address) const;
};

std::string Address(ResourceKind kind, std::string_view name);

}  // namespace banger::plan
