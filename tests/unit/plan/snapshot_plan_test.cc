// The planner's handling of [[snapshot]] and from_snapshot: order, drift,
// replacement of clones and deletion of undeclared snapshots.
#include <catch2/catch.hpp>

#include "reconciler/plan/planner.h"
#include "tests/support/spec_builders.h"

using namespace banger;
using namespace banger::plan;
using banger::testing::Clone;
using banger::testing::Converged;
using banger::testing::Fleet;
using banger::testing::Vm;
using Texts = std::vector<std::string>;

namespace {

// builder, snapshot "warm" of it, clones c1 and c2.
specs::DesiredState ClonedFleet() {
  specs::VmSpec builder = Vm("builder");
  auto d = Fleet({builder, Clone("c1", "warm", builder), Clone("c2", "warm", builder)});
  d.snapshots.push_back({"warm", "builder", {}});
  return d;
}

Texts Order(const Plan& p) {
  Texts out;
  for (const auto& s : p.steps) out.push_back(std::string(ActionSymbol(s.action)) + s.address);
  return out;
}

Texts Reasons(const Step& s) {
  Texts out;
  for (const auto& c : s.changes) out.push_back(c.reason);
  return out;
}

}  // namespace

TEST_CASE("a snapshot is taken after its source VM, and clones are made after it") {
  auto d = ClonedFleet();
  Plan p = MakePlan(d, Observed{});
  CHECK(Order(p) == Texts{"+kernel.default", "+image.base", "+vm.builder", "+snapshot.warm",
                          "+vm.c1", "+vm.c2"});
  CHECK(p.Find("snapshot.warm")->depends_on == Texts{"vm.builder"});
  CHECK(Reasons(*p.Find("snapshot.warm")) == Texts{"declared, not taken yet: create"});
  CHECK(p.Find("vm.c1")->depends_on ==
        Texts{"kernel.default", "image.base", "snapshot.warm"});
  CHECK(p.Find("vm.c1")->keep_work_disk == false);
  CHECK(p.counts().create == 6);
}

TEST_CASE("a converged fleet of clones plans nothing") {
  auto d = ClonedFleet();
  Plan p = MakePlan(d, Converged(d));
  CHECK(p.steps.empty());
  CHECK(p.drift.empty());
  CHECK(p.errors.empty());
}

TEST_CASE("a snapshot declared for a running VM waits for nothing") {
  auto d = ClonedFleet();
  Observed o = Converged(d);
  o.snapshots.clear();
  o.store.vms.erase("c1");
  o.store.vms.erase("c2");
  Plan p = MakePlan(d, o);
  CHECK(Order(p) == Texts{"+snapshot.warm", "+vm.c1", "+vm.c2"});
  CHECK(p.Find("snapshot.warm")->depends_on.empty());
  CHECK(p.Find("vm.c2")->depends_on == Texts{"snapshot.warm"});
}

TEST_CASE("a source VM that changed since the snapshot is drift, not a step") {
  auto d = ClonedFleet();
  Observed o = Converged(d);
  SECTION("a field inside the guest") {
    d.vms[0].memory = 2 * specs::kGiB;
    Plan p = MakePlan(d, o);
    // The builder restarts; the clones and the snapshot are left alone.
    CHECK(Order(p) == Texts{"!vm.builder"});
    REQUIRE(p.drift.size() == 1);
    CHECK(p.drift[0].address == "snapshot.warm");
    CHECK(p.drift[0].what ==
          "vm.builder changed since the snapshot was taken (memory 1G -> 2G); its clones "
          "still start from the old state; rename the snapshot to take a new one");
  }
  SECTION("an image rebuilt under the source") {
    o.store.vms["builder"].image_digest = "idigest-new";
    o.store.images["base"].digest = "idigest-new";
    Plan p = MakePlan(d, o);
    REQUIRE(p.drift.size() == 1);
    CHECK(p.drift[0].what.find("(image 'base' rebuilt)") != std::string::npos);
  }
  SECTION("fields outside the guest are not drift") {
    d.vms[0].nat = true;
    d.vms[0].labels["role"] = "builder";
    Plan p = MakePlan(d, o);
    CHECK(Order(p) == Texts{"~vm.builder"});
    CHECK(p.drift.empty());
  }
}

TEST_CASE("a clone's inherited fields follow its snapshot, not its source") {
  auto d = ClonedFleet();
  Observed o = Converged(d);
  for (auto& v : d.vms) v.memory = 2 * specs::kGiB;  // as the loader fills it in
  Plan p = MakePlan(d, o);
  CHECK(Order(p) == Texts{"!vm.builder"});
}

TEST_CASE("from_snapshot is a field like any other: a change replaces the VM") {
  auto d = ClonedFleet();
  Observed o = Converged(d);
  d.snapshots.push_back({"cold", "builder", {}});
  d.vms[1].from_snapshot = "cold";
  Plan p = MakePlan(d, o);
  CHECK(Order(p) == Texts{"+snapshot.cold", "-/+vm.c1"});
  const Step* c1 = p.Find("vm.c1");
  CHECK(Reasons(*c1) == Texts{"from_snapshot warm -> cold: replace"});
  CHECK(c1->depends_on == Texts{"snapshot.cold"});
  CHECK(c1->keep_work_disk == false);

  SECTION("a clone becoming an ordinary VM boots without the clone's work disk") {
    d.vms[2].from_snapshot.clear();
    Plan q = MakePlan(d, o);
    CHECK(Reasons(*q.Find("vm.c2")) == Texts{"from_snapshot warm -> : replace"});
    CHECK(q.Find("vm.c2")->keep_work_disk == false);
  }
}

TEST_CASE("missing snapshot files are taken again, and their clones replaced") {
  auto d = ClonedFleet();
  Observed o = Converged(d);
  o.snapshots["warm"].present = false;
  Plan p = MakePlan(d, o);
  CHECK(Order(p) == Texts{"-/+snapshot.warm", "-/+vm.c1", "-/+vm.c2"});
  CHECK(p.Find("snapshot.warm")->drift);
  CHECK(Reasons(*p.Find("vm.c1")) == Texts{"snapshot 'warm' is taken again: replace"});
  CHECK(p.Find("vm.c1")->depends_on == Texts{"snapshot.warm"});
  REQUIRE(p.drift.size() == 1);
  CHECK(p.drift[0].what == "snapshot files missing");
}

TEST_CASE("a snapshot pointed at another VM is taken again") {
  auto d = ClonedFleet();
  Observed o = Converged(d);
  d.vms.push_back(Vm("other"));
  d.snapshots[0].vm = "other";
  for (auto& v : d.vms)
    if (!v.from_snapshot.empty()) v = Clone(v.name, "warm", d.vms.back());
  Plan p = MakePlan(d, o);
  CHECK(Order(p) == Texts{"+vm.other", "-/+snapshot.warm", "-/+vm.c1", "-/+vm.c2"});
  CHECK(Reasons(*p.Find("snapshot.warm")) == Texts{"vm builder -> other: replace"});
  CHECK(p.Find("snapshot.warm")->depends_on == Texts{"vm.other"});
}

TEST_CASE("a snapshot of a stopped VM cannot be taken") {
  auto d = ClonedFleet();
  Observed o = Converged(d);
  o.snapshots.clear();
  o.store.vms["builder"].power = model::PowerIntent::kStopped;
  Plan p = MakePlan(d, o);
  CHECK(p.errors == Texts{"snapshot.warm: vm.builder is stopped; start it (`banger vm start "
                          "builder`) so the snapshot can be taken"});
}

TEST_CASE("undeclared snapshots are deleted after their clones, before the image") {
  auto d = ClonedFleet();
  Observed o = Converged(d);
  Plan p = MakePlan(specs::DesiredState{}, o);
  CHECK(Order(p) == Texts{"-vm.builder", "-vm.c1", "-vm.c2", "-snapshot.warm", "-image.base",
                          "-kernel.default"});
  CHECK(p.Find("snapshot.warm")->depends_on == Texts{"vm.c1", "vm.c2"});
  const Step* image = p.Find("image.base");
  CHECK(std::find(image->depends_on.begin(), image->depends_on.end(), "snapshot.warm") !=
        image->depends_on.end());
}

TEST_CASE("a snapshot a kept VM is restored from is not deleted") {
  auto d = ClonedFleet();
  Observed o = Converged(d);
  // c1 still runs from "warm" but the spec no longer names either; c1 was
  // made by another tool's record (origin cli), so the plan keeps it.
  o.store.vms["c1"].origin = model::Origin::kCli;
  d.snapshots.clear();
  d.vms.erase(d.vms.begin() + 1, d.vms.end());
  Plan p = MakePlan(d, o);
  CHECK(p.Find("snapshot.warm") == nullptr);
  CHECK(p.warnings ==
        Texts{"snapshot.warm is no longer declared but vm.c1 is restored from it; kept"});
}

TEST_CASE("snapshot deletions are withheld when observation is incomplete") {
  auto d = ClonedFleet();
  Observed o = Converged(d);
  o.handle_errors.push_back("vm 'c1': handles unreadable");
  Plan p = MakePlan(specs::DesiredState{}, o);
  CHECK(p.steps.empty());
  bool withheld = false;
  for (const auto& w : p.withheld) withheld = withheld || w.address == "snapshot.warm";
  CHECK(withheld);
}

TEST_CASE("snapshots taken with `vm snapshot` are never pruned, and stand for a declared one") {
  auto d = ClonedFleet();
  Observed o = Converged(d);
  ObservedSnapshot by_hand;
  by_hand.source_vm = "builder";
  by_hand.declared = false;
  o.snapshots["manual"] = by_hand;
  CHECK(MakePlan(d, o).steps.empty());

  // Declared under the name of one taken by hand of the same VM: taken already.
  o.snapshots["warm"].declared = false;
  Plan same = MakePlan(d, o);
  CHECK(same.steps.empty());
  CHECK(same.errors.empty());

  // Of another VM: the spec cannot claim it.
  o.snapshots["warm"].source_vm = "other";
  Plan other = MakePlan(d, o);
  CHECK(other.errors ==
        Texts{"snapshot.warm: a snapshot named 'warm' of vm 'other' was taken with `banger vm "
              "snapshot`; remove it (`banger snapshot rm warm`) or declare another name"});
}

TEST_CASE("a snapshot that stays keeps its image and kernel") {
  auto d = ClonedFleet();
  Observed o = Converged(d);
  o.snapshots["warm"].declared = false;  // taken with `vm snapshot`: never pruned
  Plan p = MakePlan(specs::DesiredState{}, o);
  CHECK(Order(p) == Texts{"-vm.builder", "-vm.c1", "-vm.c2"});
  CHECK(p.warnings ==
        Texts{"image.base is no longer declared but snapshot.warm is layered on it; kept",
              "kernel.default is no longer declared but snapshot.warm restores onto it; kept"});
}
