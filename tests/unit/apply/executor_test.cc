#include <catch2/catch.hpp>

#include <set>

#include "reconciler/apply/executor.h"
#include "reconciler/plan/planner.h"
#include "tests/support/fake_effects.h"
#include "tests/support/spec_builders.h"

using namespace banger;
using namespace banger::testing;
using plan::Action;

namespace {

struct Harness {
  FakeWorld world;
  FakeKernelStore kernels{world};
  FakeImageStore images{world};
  FakeVmRuntime vms{world};
  FakeRecorder recorder{world};
  FakeSnapshotStore snapshots{world, vms};
  bool with_snapshots = true;  // false: an apply without a snapshot store

  plan::Plan Plan(const specs::DesiredState& d) {
    return plan::MakePlan(d, ObserveFakes(recorder, kernels, images, vms, &snapshots));
  }
  apply::ApplyResult Apply(const specs::DesiredState& d, int parallelism = 4) {
    apply::ExecutorDeps deps;
    deps.kernels = &kernels;
    deps.images = &images;
    deps.vms = &vms;
    deps.recorder = &recorder;
    if (with_snapshots) deps.snapshots = &snapshots;
    apply::Executor ex(deps, parallelism);
    return ex.Run(Plan(d), d, recorder.Snapshot());
  }
};

specs::DesiredState Lab() {
  auto d = Fleet({Vm("web"), Vm("worker")});
  d.file_syncs.push_back(FileSync("creds", "~/.creds", "/root/.creds"));
  d.vms[0].file_sync = {"creds"};
  return d;
}

specs::DesiredState Cloned() {
  specs::VmSpec builder = Vm("builder");
  auto d = Fleet({builder, Clone("c1", "warm", builder), Clone("c2", "warm", builder)});
  d.snapshots.push_back({"warm", "builder", {}});
  return d;
}

}  // namespace

TEST_CASE("apply converges and a second apply does nothing") {
  Harness h;
  auto d = Lab();
  auto r = h.Apply(d, 1);
  REQUIRE(r.ok());
  CHECK(r.done == 5);
  CHECK(h.world.calls() == std::vector<std::string>{
                               "kernel.build default", "record.kernel default",
                               "image.build base", "record.image base",
                               "record.file_sync creds",
                               "vm.create web /images/base-1 172.30.0.2", "record.vm web",
                               "vm.create worker /images/base-1 172.30.0.3", "record.vm worker"});
  auto snap = h.recorder.Snapshot();
  CHECK(snap.vms.at("web").synced.at("creds") == "fdigest-creds");
  CHECK(snap.vms.at("web").image_digest == snap.images.at("base").digest);
  h.world.ClearCalls();
  CHECK(h.Plan(d).steps.empty());
  CHECK(h.Apply(d).done == 0);
  CHECK(h.world.calls().empty());
}

TEST_CASE("a failed step skips its dependents; independent steps go on") {
  Harness h;
  auto d = Lab();
  d.images.push_back(DirImage("other", "/srv/other"));
  d.vms[1].image = "other";
  h.world.FailMatching("image.build base");
  auto r = h.Apply(d, 2);
  CHECK_FALSE(r.ok());
  CHECK(r.failed == 1);
  CHECK(r.skipped == 1);  // vm.web waits for image.base
  std::map<std::string, apply::StepOutcome::State> by;
  for (const auto& o : r.outcomes) by[o.address] = o.state;
  CHECK(by["vm.web"] == apply::StepOutcome::State::kSkipped);
  CHECK(by["vm.worker"] == apply::StepOutcome::State::kDone);
  for (const auto& o : r.outcomes) {
    if (o.address == "image.base")
      CHECK(o.error->message() == "image.base: injected failure in 'image.build base'");
    if (o.address == "vm.web") CHECK(o.skipped_because == "image.base");
  }
}

TEST_CASE("resume after a failure injected at every call converges without redoing work") {
  // First find how many effect calls a clean apply makes.
  int total;
  {
    Harness clean;
    REQUIRE(clean.Apply(Lab(), 1).ok());
    total = clean.world.call_count();
  }
  REQUIRE(total == 9);
  for (int n = 1; n <= total; ++n) {
    DYNAMIC_SECTION("failure at call " << n) {
      Harness h;
      auto d = Lab();
      h.world.FailCall(n);
      auto first = h.Apply(d, 1);
      CHECK_FALSE(first.ok());
      const auto failed_calls = h.world.calls();
      h.world.FailCall(0);
      h.world.ClearCalls();
      auto second = h.Apply(d, 1);
      REQUIRE(second.ok());
      // Whatever the first run recorded is not touched again.
      std::set<std::string> recorded;  // "vm web", "kernel default", ...
      for (size_t i = 0; i < failed_calls.size(); ++i) {
        const std::string& c = failed_calls[i];
        if (static_cast<int>(i) + 1 != n && c.rfind("record.", 0) == 0)
          recorded.insert(c.substr(7));
      }
      for (const auto& c : h.world.calls()) {
        std::string kind = c.substr(0, c.find('.'));
        if (kind == "record") kind = c.substr(7, c.find(' ') - 7);
        std::string rest = c.substr(c.find(' ') + 1);
        std::string name = rest.substr(0, rest.find(' '));
        CHECK(recorded.count(kind + " " + name) == 0);
      }
      CHECK(h.Plan(d).steps.empty());
      auto snap = h.recorder.Snapshot();
      CHECK(snap.vms.size() == 2);
      CHECK(h.vms.running.at("web"));
      CHECK(h.vms.running.at("worker"));
    }
  }
}

TEST_CASE("drift repair and pruning through the executor") {
  Harness h;
  auto d = Lab();
  REQUIRE(h.Apply(d).ok());
  h.vms.Kill("worker");
  auto p = h.Plan(d);
  REQUIRE(p.steps.size() == 1);
  CHECK(p.steps[0].action == Action::kRestart);
  h.world.ClearCalls();
  REQUIRE(h.Apply(d).ok());
  CHECK(h.world.calls() ==
        std::vector<std::string>{"vm.stop worker", "vm.start worker", "record.vm worker"});
  CHECK(h.vms.running.at("worker"));

  h.world.ClearCalls();
  REQUIRE(h.Apply(specs::DesiredState{}, 1).ok());
  CHECK(h.world.calls() == std::vector<std::string>{
                               "vm.destroy web", "forget.vm web", "vm.destroy worker",
                               "forget.vm worker", "forget.file_sync creds",
                               "image.remove base", "forget.image base",
                               "kernel.remove default", "forget.kernel default"});
  CHECK(h.vms.running.empty());
  CHECK(h.recorder.addresses.empty());
  CHECK(h.images.present.empty());
}

TEST_CASE("replace keeps the work disk and the address") {
  Harness h;
  auto d = Lab();
  REQUIRE(h.Apply(d).ok());
  const std::string ip = h.recorder.Snapshot().vms.at("web").ip;
  d.images[0].dir = "/srv/new";
  h.world.ClearCalls();
  REQUIRE(h.Apply(d, 1).ok());
  auto calls = h.world.calls();
  CHECK(calls.at(0) == "image.build base");
  CHECK(std::find(calls.begin(), calls.end(), "vm.destroy web keep") != calls.end());
  CHECK(h.recorder.Snapshot().vms.at("web").ip == ip);
  CHECK(h.vms.work_disks.count("web"));
  CHECK(h.Plan(d).steps.empty());
}

TEST_CASE("a workspace is imported at create and re-imported in place when it changes") {
  Harness h;
  auto d = Fleet({Vm("web")});
  d.vms[0].workspace = specs::WorkspaceSpec{"/src/app", "main"};
  REQUIRE(h.Apply(d, 1).ok());
  auto calls = h.world.calls();
  CHECK(std::find(calls.begin(), calls.end(),
                  "vm.create web /images/base-1 172.30.0.2 workspace /src/app@main") != calls.end());

  d.vms[0].workspace->ref = "dev";
  h.world.ClearCalls();
  h.world.FailMatching("vm.update web workspace");
  CHECK_FALSE(h.Apply(d, 1).ok());
  // A failed import leaves the record at the old workspace: the next apply tries again.
  CHECK(h.recorder.Snapshot().vms.at("web").spec.workspace->ref == "main");
  h.world.FailMatching("");
  h.world.ClearCalls();
  REQUIRE(h.Apply(d, 1).ok());
  CHECK(h.world.calls() == std::vector<std::string>{"vm.update web workspace", "record.vm web"});
  CHECK(h.recorder.Snapshot().vms.at("web").spec.workspace->ref == "dev");
  CHECK(h.vms.running.at("web"));
  CHECK(h.Plan(d).steps.empty());
}

TEST_CASE("a create that fails gives its address back") {
  Harness h;
  auto d = Fleet({Vm("web")});
  h.world.FailMatching("vm.create web");
  CHECK_FALSE(h.Apply(d).ok());
  CHECK(h.recorder.addresses.empty());
}

// Snapshot steps: taken after the source VM is ready, before the clones;
// removed after them.
TEST_CASE("a declared snapshot is taken between its source VM and its clones") {
  Harness h;
  auto d = Cloned();
  auto r = h.Apply(d, 1);
  REQUIRE(r.ok());
  CHECK(h.world.calls() == std::vector<std::string>{"kernel.build default", "record.kernel default",
                                 "image.build base", "record.image base",
                                 "vm.create builder /images/base-1 172.30.0.2", "record.vm builder",
                                 "snapshot.take warm builder",
                                 "snapshot.clone warm c1 172.30.0.3", "record.vm c1 from warm",
                                 "snapshot.clone warm c2 172.30.0.4", "record.vm c2 from warm"});
  CHECK(h.recorder.Snapshot().vms.at("c1").spec.from_snapshot == "warm");
  h.world.ClearCalls();
  CHECK(h.Plan(d).steps.empty());

  SECTION("an undeclared snapshot goes after its clones") {
    specs::DesiredState only_builder = Fleet({Vm("builder")});
    auto r2 = h.Apply(only_builder, 1);
    REQUIRE(r2.ok());
    CHECK(h.world.calls() == std::vector<std::string>{"vm.destroy c1", "forget.vm c1", "vm.destroy c2",
                                   "forget.vm c2", "snapshot.remove warm"});
    CHECK(h.snapshots.taken.empty());
  }
}

TEST_CASE("clones are recorded as restored from their snapshot until replaced by a boot") {
  Harness h;
  auto d = Cloned();
  REQUIRE(h.Apply(d, 1).ok());
  auto snap = h.recorder.Snapshot();
  CHECK(snap.restored_from == std::map<std::string, std::string>{{"c1", "warm"}, {"c2", "warm"}});
  CHECK(h.vms.running.at("c1"));

  // c1 booted instead: a replace, and its disks are no longer the snapshot's.
  specs::VmSpec builder = Vm("builder");
  auto booted = Fleet({builder, Vm("c1"), Clone("c2", "warm", builder)});
  booted.snapshots = d.snapshots;
  h.world.ClearCalls();
  REQUIRE(h.Apply(booted, 1).ok());
  CHECK(h.world.calls() == std::vector<std::string>{"vm.destroy c1",
                                                    "vm.create c1 /images/base-1 172.30.0.3",
                                                    "record.vm c1"});
  CHECK(h.recorder.Snapshot().restored_from == std::map<std::string, std::string>{{"c2", "warm"}});
}

TEST_CASE("a failed clone gives its address back and the other clone is made") {
  Harness h;
  auto d = Cloned();
  h.world.FailMatching("snapshot.clone warm c1");
  auto r = h.Apply(d, 1);
  CHECK(r.failed == 1);
  auto snap = h.recorder.Snapshot();
  CHECK(snap.vms.count("c1") == 0);
  CHECK(snap.vms.count("c2") == 1);
  CHECK(h.recorder.addresses.count("c1") == 0);
  CHECK(snap.restored_from.count("c1") == 0);
}

TEST_CASE("a failed snapshot skips its clones, not the rest") {
  Harness h;
  auto d = Cloned();
  d.vms.push_back(Vm("other"));
  h.world.FailMatching("snapshot.take");
  auto r = h.Apply(d, 1);
  CHECK(r.failed == 1);
  CHECK(r.skipped == 2);
  auto snap = h.recorder.Snapshot();
  CHECK(snap.vms.count("builder") == 1);
  CHECK(snap.vms.count("other") == 1);
  CHECK(snap.vms.count("c1") == 0);
}

TEST_CASE("without a snapshot store a snapshot step fails with a clear error") {
  Harness h;
  auto d = Cloned();
  h.with_snapshots = false;
  auto r = h.Apply(d, 1);
  REQUIRE_FALSE(r.ok());
  bool named = false;
  for (const auto& o : r.outcomes)
    if (o.address == "snapshot.warm" && o.error)
      named = o.error->message().find("no snapshot store") != std::string::npos;
  CHECK(named);
}
