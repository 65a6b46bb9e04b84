// What the daemon takes on its own, what it holds, and its backoff.
#include <catch2/catch.hpp>

#include "reconciler/daemon/repair_policy.h"

using namespace banger;
using banger::daemon::BackoffSeconds;
using banger::daemon::PolicyInputs;
using banger::daemon::RecordRepairs;
using banger::daemon::SelectDaemonSteps;
using banger::daemon::VmRepairState;
using plan::Action;
using plan::ResourceKind;

namespace {

plan::Step VmStep(const std::string& name, Action action, bool drift,
                  std::vector<std::string> deps = {}) {
  plan::Step s;
  s.address = "vm." + name;
  s.kind = ResourceKind::kVm;
  s.name = name;
  s.action = action;
  s.drift = drift;
  s.depends_on = std::move(deps);
  s.changes.push_back({drift ? "process" : "memory", "", "", action,
                       drift ? "process not running: restart" : "memory: restart"});
  return s;
}

specs::DesiredState Desired(std::initializer_list<std::pair<std::string, specs::RestartPolicy>> vms) {
  specs::DesiredState d;
  for (const auto& [name, policy] : vms) {
    specs::VmSpec v;
    v.name = name;
    v.restart = policy;
    d.vms.push_back(v);
  }
  return d;
}

std::vector<std::string> Addresses(const plan::Plan& p) {
  std::vector<std::string> out;
  for (const auto& s : p.steps) out.push_back(s.address);
  return out;
}

}  // namespace

TEST_CASE("backoff starts at 10 s, doubles, and stops at 5 min") {
  CHECK(BackoffSeconds(0) == 0);
  CHECK(BackoffSeconds(1) == 10);
  CHECK(BackoffSeconds(2) == 20);
  CHECK(BackoffSeconds(3) == 40);
  CHECK(BackoffSeconds(5) == 160);
  CHECK(BackoffSeconds(6) == 300);
  CHECK(BackoffSeconds(60) == 300);
}

TEST_CASE("deletes and replaces are held unless the owner opted in") {
  plan::Plan p;
  p.steps = {VmStep("old", Action::kDelete, false), VmStep("img", Action::kReplace, false),
             VmStep("new", Action::kCreate, false, {"vm.img"}), VmStep("mem", Action::kRestart, false)};
  auto desired = Desired({});
  std::map<std::string, VmRepairState> mem;
  PolicyInputs in{&p, &desired, &mem, {}, 1000};
  auto out = SelectDaemonSteps(in);
  CHECK(Addresses(out.run) == std::vector<std::string>{"vm.mem"});
  REQUIRE(out.held.size() == 3);
  CHECK(out.held[0].address == "vm.old");
  CHECK_THAT(out.held[0].reason, Catch::Contains("banger apply"));
  CHECK(out.held[2].address == "vm.new");
  CHECK_THAT(out.held[2].reason, Catch::Contains("depends on vm.img"));
  CHECK(out.repairs.empty());

  desired.settings.daemon_destructive = true;
  out = SelectDaemonSteps(in);
  CHECK(out.run.steps.size() == 4);
  CHECK(out.held.empty());
}

TEST_CASE("repairs follow each VM's restart policy") {
  using P = specs::RestartPolicy;
  plan::Plan p;
  p.steps = {VmStep("a", Action::kRestart, true), VmStep("n", Action::kRestart, true),
             VmStep("f", Action::kRestart, true), VmStep("g", Action::kRestart, true)};
  auto desired = Desired({{"a", P::kAlways}, {"n", P::kNever}, {"f", P::kOnFailure},
                          {"g", P::kOnFailure}});
  std::map<std::string, VmRepairState> mem;
  PolicyInputs in{&p, &desired, &mem, {"f", "a"}, 1000};  // f and a powered themselves off
  auto out = SelectDaemonSteps(in);
  CHECK(Addresses(out.run) == std::vector<std::string>{"vm.a", "vm.g"});
  CHECK(out.repairs == std::set<std::string>{"a", "g"});
  REQUIRE(out.held.size() == 2);
  CHECK_THAT(out.held[0].reason, Catch::Contains("never"));
  CHECK_THAT(out.held[1].reason, Catch::Contains("powered itself off"));
}

TEST_CASE("a spec change is not a repair, even with drift on the same VM") {
  plan::Plan p;
  plan::Step s = VmStep("web", Action::kRestart, true);
  s.changes.push_back({"memory", "1G", "2G", Action::kRestart, "memory 1G -> 2G: restart"});
  s.changes.push_back({"nat", "false", "true", Action::kUpdate, "nat: update"});
  p.steps = {s};
  auto desired = Desired({{"web", specs::RestartPolicy::kNever}});
  std::map<std::string, VmRepairState> mem;
  auto out = SelectDaemonSteps({&p, &desired, &mem, {}, 1000});
  CHECK(out.run.steps.size() == 1);
  CHECK(out.repairs.empty());
}

TEST_CASE("a VM that keeps dying is retried at 10, 20, 40 s, and afresh after 10 healthy min") {
  plan::Plan p;
  p.steps = {VmStep("web", Action::kRestart, true)};
  auto desired = Desired({{"web", specs::RestartPolicy::kAlways}});
  std::map<std::string, VmRepairState> mem;
  int64_t now = 1000;
  auto taken = [&] { return SelectDaemonSteps({&p, &desired, &mem, {}, now}).repairs.count("web") == 1; };

  REQUIRE(taken());                        // first death: at once
  RecordRepairs(mem, {}, {{"web", "boot failed"}}, {}, now);
  CHECK(mem["web"].last_error == "boot failed");
  now += 9;
  CHECK_FALSE(taken());
  auto held = SelectDaemonSteps({&p, &desired, &mem, {}, now}).held;
  REQUIRE(held.size() == 1);
  CHECK_THAT(held[0].reason, Catch::Contains("next try in 1 s"));
  now += 1;
  REQUIRE(taken());                        // 10 s later
  RecordRepairs(mem, {"web"}, {}, {}, now);  // came up...
  CHECK(mem["web"].restarts == 1);
  CHECK(mem["web"].last_error.empty());
  now += 5;                                // ...and died again at once
  CHECK_FALSE(taken());
  now += 15;
  REQUIRE(taken());                        // 20 s after the last try
  RecordRepairs(mem, {}, {{"web", "x"}}, {}, now);
  now += 39;
  CHECK_FALSE(taken());
  now += 1;
  REQUIRE(taken());                        // 40 s
  RecordRepairs(mem, {"web"}, {}, {}, now);
  CHECK(mem["web"].failures_in_a_row == 4);

  // Up for ten minutes: the next death is repaired at once and counts as
  // the first of a new series.
  now += 600;
  RecordRepairs(mem, {}, {}, {"web"}, now);
  CHECK(mem["web"].failures_in_a_row == 0);
  REQUIRE(taken());
  RecordRepairs(mem, {"web"}, {}, {}, now);
  CHECK(mem["web"].failures_in_a_row == 1);
  CHECK(mem["web"].next_attempt_at == now + 10);
}
