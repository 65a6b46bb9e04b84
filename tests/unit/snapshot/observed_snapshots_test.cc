// Observation of the snapshot store: what the planner sees of each recorded
// snapshot (declared or not, whole or not, what its source ran) and which
// VMs run on disks restored from one.
#include <catch2/catch.hpp>

#include "reconciler/observe/observer.h"

using namespace banger;

namespace {

model::SnapshotRecord Recorded(const std::string& name, model::Origin origin) {
  model::SnapshotRecord r;
  r.meta.name = name;
  r.meta.source_vm = "builder";
  r.meta.image_name = "bookworm";
  r.meta.image_digest = "sha256:img";
  r.meta.kernel_name = "cloud";
  r.meta.kernel_digest = "sha256:k";
  r.meta.memory_bytes = 512ull << 20;
  r.meta.vcpus = 2;
  r.origin = origin;
  r.dir = "/state/snapshots/" + name;
  return r;
}

}  // namespace

TEST_CASE("observation shows each recorded snapshot as the planner needs it") {
  model::StoreSnapshot store;
  store.snapshots["warm"] = Recorded("warm", model::Origin::kSpec);
  store.snapshots["manual"] = Recorded("manual", model::Origin::kCli);
  store.restored_from["c1"] = "warm";
  observe::ObserverDeps deps;
  deps.snapshot_present = [](const model::SnapshotRecord& r) { return r.meta.name != "manual"; };
  plan::Observed o = observe::Observe(store, specs::DesiredState{}, deps);

  REQUIRE(o.snapshots.size() == 2);
  const plan::ObservedSnapshot& warm = o.snapshots.at("warm");
  CHECK(warm.declared);
  CHECK(warm.present);
  CHECK(warm.source_vm == "builder");
  CHECK(warm.image == "bookworm");
  CHECK(warm.kernel == "cloud");
  CHECK(warm.image_digest == "sha256:img");
  CHECK(warm.kernel_digest == "sha256:k");
  CHECK(warm.memory == 512ull << 20);
  CHECK(warm.vcpus == 2);
  CHECK_FALSE(o.snapshots.at("manual").declared);
  CHECK_FALSE(o.snapshots.at("manual").present);
  CHECK(o.restored_from == std::map<std::string, std::string>{{"c1", "warm"}});

  SECTION("without a file check every recorded snapshot counts as present") {
    plan::Observed unchecked = observe::Observe(store, specs::DesiredState{}, {});
    CHECK(unchecked.snapshots.at("manual").present);
  }
}
