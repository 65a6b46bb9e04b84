// Snapshots in the state db: records survive a reopen, a snapshot a VM was
// restored from cannot be deleted, deleting the VM lets it go, and a
// version-1 db is migrated with its records intact.
#include <catch2/catch.hpp>

#include "reconciler/store/migrations.h"
#include "tests/integration/store/store_fixture.h"

using namespace banger;
using namespace banger::store;
using namespace banger::store::testing;

namespace {

model::SnapshotRecord Snapshot(const std::string& name, const std::string& vm) {
  model::SnapshotRecord r;
  r.meta.name = name;
  r.meta.source_vm = vm;
  r.meta.created_unix = 1700000100;
  r.meta.vmm = "qemu";
  r.meta.vmm_version = "QEMU emulator version 7.2.0";
  r.meta.machine = "microvm,acpi=on,rtc=on";
  r.meta.memory_bytes = 512ull << 20;
  r.meta.vcpus = 1;
  r.meta.state_bytes = 65000000;
  r.meta.disks = {{"rootfs", "rootfs.qcow2", "qcow2", "/i/rootfs.ext4", "copy", 1 << 30, 1 << 20},
                  {"work", "work.ext4", "raw", "", "reflink", 4ull << 30, 50 << 20}};
  r.origin = model::Origin::kCli;
  r.dir = "/state/snapshots/" + name;
  return r;
}

}  // namespace

TEST_CASE("snapshots: records survive a reopen and bump the serial once") {
  TempDir dir = banger::testing::ScratchDir("banger-store-");
  {
    auto store = OpenStore(dir.path());
    REQUIRE(store->PutVm(Vm("web")).ok());
    const int64_t before = SerialOf(*store);
    REQUIRE(store->PutSnapshot(Snapshot("warm", "web")).ok());
    CHECK(SerialOf(*store) == before + 1);
    REQUIRE(store->PutSnapshot(Snapshot("warm", "web")).ok());  // unchanged
    CHECK(SerialOf(*store) == before + 1);
    REQUIRE(store->SetRestoredFrom("web", "warm").ok());
  }
  auto store = OpenStore(dir.path());
  auto snap = store->Load();
  REQUIRE(snap.ok());
  REQUIRE(snap->snapshots.count("warm") == 1);
  CHECK(snap->snapshots.at("warm") == Snapshot("warm", "web"));
  CHECK(snap->restored_from == std::map<std::string, std::string>{{"web", "warm"}});
}

TEST_CASE("snapshots: one a VM runs on cannot be deleted; deleting the VM releases it") {
  TempDir dir = banger::testing::ScratchDir("banger-store-");
  auto store = OpenStore(dir.path());
  REQUIRE(store->PutVm(Vm("web")).ok());
  REQUIRE(store->PutSnapshot(Snapshot("warm", "web")).ok());
  REQUIRE(store->SetRestoredFrom("web", "warm").ok());
  Status refused = store->DeleteSnapshot("warm");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code() == Code::kFailedPrecondition);
  CHECK(refused.error().message() ==
        "snapshot 'warm' is in use: vm 'web' runs on disks restored from it");

  SECTION("restoring again from another snapshot moves the use") {
    REQUIRE(store->PutSnapshot(Snapshot("cold", "web")).ok());
    REQUIRE(store->SetRestoredFrom("web", "cold").ok());
    CHECK(store->DeleteSnapshot("warm").ok());
    CHECK_FALSE(store->DeleteSnapshot("cold").ok());
  }
  SECTION("clearing it") {
    REQUIRE(store->SetRestoredFrom("web", "").ok());
    CHECK(store->DeleteSnapshot("warm").ok());
  }
  SECTION("deleting the VM") {
    REQUIRE(store->DeleteVm("web").ok());
    auto snap = store->Load();
    REQUIRE(snap.ok());
    CHECK(snap->restored_from.empty());
    CHECK(store->DeleteSnapshot("warm").ok());
  }
  SECTION("a VM or snapshot that does not exist cannot be recorded") {
    CHECK_FALSE(store->SetRestoredFrom("nope", "warm").ok());
    CHECK_FALSE(store->SetRestoredFrom("web", "nope").ok());
  }
}

TEST_CASE("snapshots: a created VM and its snapshot are recorded in one transaction") {
  TempDir dir = banger::testing::ScratchDir("banger-store-");
  auto store = OpenStore(dir.path());
  REQUIRE(store->PutVm(Vm("builder")).ok());
  REQUIRE(store->PutSnapshot(Snapshot("warm", "builder")).ok());
  const int64_t before = SerialOf(*store);
  REQUIRE(store->PutCreatedVm(Vm("c1"), "warm").ok());
  CHECK(SerialOf(*store) == before + 1);
  auto snap = store->Load();
  REQUIRE(snap.ok());
  CHECK(snap->vms.count("c1") == 1);
  CHECK(snap->restored_from == std::map<std::string, std::string>{{"c1", "warm"}});
  Status held = store->DeleteSnapshot("warm");
  REQUIRE_FALSE(held.ok());
  CHECK(held.error().code() == Code::kFailedPrecondition);

  SECTION("a clone of a snapshot that is not recorded is refused whole") {
    CHECK_FALSE(store->PutCreatedVm(Vm("c2"), "nope").ok());
    auto after = store->Load();
    REQUIRE(after.ok());
    CHECK(after->vms.count("c2") == 0);
  }
  SECTION("re-created by a boot, the VM no longer holds the snapshot") {
    REQUIRE(store->PutCreatedVm(Vm("c1"), "").ok());
    auto after = store->Load();
    REQUIRE(after.ok());
    CHECK(after->restored_from.empty());
    CHECK(store->DeleteSnapshot("warm").ok());
  }
}

TEST_CASE("snapshots: a version-1 state db is migrated with its records") {
  TempDir dir = banger::testing::ScratchDir("banger-store-");
  {
    auto db = Database::Open(dir.path() + "/state.db");
    REQUIRE(db.ok());
    std::vector<Migration> first = {StoreMigrations()[0]};
    REQUIRE(Migrate(*db, first).ok());
    REQUIRE(db->Exec("INSERT INTO addresses (ip, vm) VALUES ('10.0.0.9', 'old')").ok());
  }
  auto store = OpenStore(dir.path());
  auto v = RawConnection(dir.path()).PragmaInt("user_version");
  REQUIRE(v.ok());
  CHECK(*v == 2);
  auto ip = store->AddressOf("old");
  REQUIRE(ip.ok());
  CHECK(ip->value_or("") == "10.0.0.9");
  REQUIRE(store->PutVm(Vm("web")).ok());
  CHECK(store->PutSnapshot(Snapshot("warm", "web")).ok());
}

TEST_CASE("snapshots: stored metadata that does not decode is reported by name") {
  TempDir dir = banger::testing::ScratchDir("banger-store-");
  auto store = OpenStore(dir.path());
  REQUIRE(store->PutSnapshot(Snapshot("warm", "web")).ok());
  Database raw = RawConnection(dir.path());
  REQUIRE(raw.Exec("UPDATE snapshots SET meta = '{\"format\": 1}' WHERE name = 'warm'").ok());
  auto snap = store->Load();
  REQUIRE_FALSE(snap.ok());
  CHECK(snap.error().code() == Code::kCorruption);
  CHECK_THAT(snap.error().message(), Catch::Contains("snapshot 'warm'"));
  CHECK_THAT(snap.error().message(), Catch::Contains("field 'name' is missing"));
}
