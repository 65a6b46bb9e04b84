// The planner: (desired, observed) -> plan. Pure: no OS calls, no clock, no
// randomness, so it is tested with tables.
//
// Consequences per field (the reason line names the field):
//   settings  bridge, subnet, jailer: every running VM restarts; vmm: VMs
//             replaced (the disk format follows the VMM); kernel_catalog,
//             image_max_size, image_max_files: record only (later builds)
//   kernel    any source field: replace (rebuild); VMs using it restart
//   image     any source field or size: replace (rebuild); VMs using it are
//             replaced; insecure: update (record only)
//   file_sync host, guest, mode: update; VMs using it re-sync (update)
//   vm        image, kernel: replace; vcpus, memory, disk growth: restart
//             (update while the VM is stopped: applies at next start);
//             disk shrink: error; nat, ports, file_sync, labels,
//             keep_work_disk: update in place; from_snapshot: replace
//             (a clone's inherited fields are not compared)
//   snapshot  vm: replace (taken again) and its clones replaced; a source
//             VM changed since it was taken: drift, no step (see
//             snapshot_plan.h)
// Host ports: two declared VMs publishing one (same protocol and port, same
// address or either on 0.0.0.0) is an error naming both; so is a port a VM
// is about to publish that Observed::bound_sockets shows another process
// holds (ports the VM's record already publishes are not checked again).
// A VM taking a port from a VM the plan deletes depends on that deletion.
// Drift (observed, not declared) is planned as a repair: a dead VMM process
// or a missing tap restarts the VM; a missing rootfs or work disk replaces
// it; missing kernel/image files rebuild them.
//
// Deletions: resources a spec created and no spec declares any more are
// deleted, VMs first, then what they used. When observation was incomplete
// no deletions are planned and the plan says so.
#pragma once

#include "reconciler/plan/observed.h"
#include "reconciler/plan/plan.h"
#include "specs/desired.h"

namespace banger::plan {

Plan MakePlan(const specs::DesiredState& desired, const Observed& observed,
              const PlanOptions& options = {});

}  // namespace banger::plan

namespace banger::plan {

// Keeps only the steps at `targets` ("kernel.default", "vm.web") and the
// steps they depend on, transitively; everything else waits for a later
// apply. An address no step has is reported in the plan's errors.
Plan TargetPlan(Plan plan, const std::vector<std::string>& targets);

}  // namespace banger::plan
