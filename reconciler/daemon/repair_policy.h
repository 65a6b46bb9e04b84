// What the daemon does with a plan: which steps it takes on its own, which
// it holds for `banger apply`, and when it retries a VM that keeps dying.
// Pure: the loop passes the plan, the desired state, its memory of each VM
// and the time, so every rule is table-tested without a host.
//
// Rules:
// - Deletes and replaces are held ("waits for `banger apply`") unless
//   settings.daemon_destructive is on.
// - A VM step that repairs a VMM that is gone (drift) follows the VM's
//   restart policy: "never" holds it; "on-failure" holds it when the guest
//   powered itself off; "always" takes it. A VM that needed a repair less
//   than kHealthyReset after the last one backs off: 10 s after the first
//   repair, doubling to kMaxBackoff.
// - A step depending on a held step is held too.
// - Everything else (creates, updates, restarts the spec asks for) is taken,
//   as `apply --watch` would.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "reconciler/daemon/daemon_files.h"
#include "reconciler/plan/plan.h"
#include "specs/desired.h"

namespace banger::daemon {

inline constexpr int64_t kFirstBackoffSeconds = 10;
inline constexpr int64_t kMaxBackoffSeconds = 300;
inline constexpr int64_t kHealthyResetSeconds = 600;

// Seconds to wait before the next repair after `failures` repairs in a row.
int64_t BackoffSeconds(int failures);

struct HeldStep {
  std::string address;
  std::string reason;  // "deletes: waits for `banger apply`", "restart = never", ...
};

struct DaemonPlan {
  plan::Plan run;                   // the input plan with only the steps taken
  std::vector<HeldStep> held;
  std::set<std::string> repairs;    // VM names whose step in `run` is a repair
};

struct PolicyInputs {
  const plan::Plan* plan = nullptr;
  const specs::DesiredState* desired = nullptr;
  const std::map<std::string, VmRepairState>* vms = nullptr;  // the daemon's memory
  std::set<std::string> powered_off;  // VMs whose guest powered itself off
  int64_t now = 0;                    // unix seconds
};

DaemonPlan SelectDaemonSteps(const PolicyInputs& in);

// Updates the memory after a cycle: `repaired` and `failed` are the repairs
// made and failed (VM name -> error), `running` the VMs seen up.
void RecordRepairs(std::map<std::string, VmRepairState>& vms, const std::set<std::string>& repaired,
                   const std::map<std::string, std::string>& failed,
                   const std::set<std::string>& running, int64_t now);

}  // namespace banger::daemon
