// Records go in and come back out whole; the serial moves once per Write
// that changed something; failures roll everything back.
#include <catch2/catch.hpp>

#include "specs/spec_json.h"
#include "tests/integration/store/store_fixture.h"

using namespace banger;
using namespace banger::store;
using namespace banger::store::testing;

namespace {

bool SameVm(const model::VmRecord& a, const model::VmRecord& b) {
  return a.spec == b.spec && a.origin == b.origin && a.ip == b.ip && a.power == b.power &&
         a.kernel_digest == b.kernel_digest && a.image_digest == b.image_digest &&
         a.synced == b.synced && a.created_unix == b.created_unix;
}

Status WriteAllKinds(Store& store) {
  return store.Write([](StoreTxn& t) -> Status {
    BANGER_RETURN_IF_ERROR(t.PutKernel(Kernel("cloud")));
    BANGER_RETURN_IF_ERROR(t.PutImage(Image("debian")));
    BANGER_RETURN_IF_ERROR(t.PutFileSync(FileSync("git")));
    BANGER_RETURN_IF_ERROR(t.PutVm(Vm("web")));
    specs::Settings s;
    s.subnet = "10.7.0.0/24";
    s.state_dir = "~/st";
    return t.PutSettings(s);
  });
}

}  // namespace

TEST_CASE("records of every kind survive a reopen") {
  TempDir dir = banger::testing::ScratchDir();
  {
    auto store = OpenStore(dir.path());
    REQUIRE(WriteAllKinds(*store).ok());
  }
  auto store = OpenStore(dir.path());
  auto snap = store->Load();
  REQUIRE(snap.ok());
  CHECK(snap->serial == 1);
  REQUIRE(snap->settings.has_value());
  CHECK(snap->settings->subnet == "10.7.0.0/24");
  CHECK(snap->settings->state_dir == "~/st");

  REQUIRE(snap->kernels.count("cloud"));
  const auto& k = snap->kernels.at("cloud");
  const auto want_k = Kernel("cloud");
  CHECK(k.spec == want_k.spec);
  CHECK(k.origin == model::Origin::kCli);
  CHECK(k.digest == want_k.digest);
  CHECK(k.dir == want_k.dir);
  CHECK(k.version == want_k.version);
  CHECK(k.created_unix == want_k.created_unix);

  REQUIRE(snap->images.count("debian"));
  const auto& i = snap->images.at("debian");
  CHECK(i.spec == Image("debian").spec);
  CHECK(i.rootfs_bytes == 1234567890u);
  CHECK(i.digest == Image("debian").digest);
  CHECK(i.created_unix == 1700000002);

  REQUIRE(snap->file_syncs.count("git"));
  CHECK(snap->file_syncs.at("git").spec == FileSync("git").spec);

  REQUIRE(snap->vms.count("web"));
  CHECK(SameVm(snap->vms.at("web"), Vm("web")));
}

TEST_CASE("a fresh store has serial 0 and nothing in it") {
  TempDir dir = banger::testing::ScratchDir();
  auto store = OpenStore(dir.path());
  auto snap = store->Load();
  REQUIRE(snap.ok());
  CHECK(snap->serial == 0);
  CHECK_FALSE(snap->settings.has_value());
  CHECK(snap->vms.empty());
  CHECK(snap->kernels.empty());
}

TEST_CASE("the serial moves exactly once per Write that changed something") {
  TempDir dir = banger::testing::ScratchDir();
  auto store = OpenStore(dir.path());
  REQUIRE(WriteAllKinds(*store).ok());  // five changes, one Write
  CHECK(SerialOf(*store) == 1);

  // The same records again change nothing.
  REQUIRE(WriteAllKinds(*store).ok());
  CHECK(SerialOf(*store) == 1);
  REQUIRE(store->Write([](StoreTxn&) { return OkStatus(); }).ok());
  CHECK(SerialOf(*store) == 1);
  REQUIRE(store->DeleteVm("never-existed").ok());
  CHECK(SerialOf(*store) == 1);

  model::VmRecord web = Vm("web");
  web.power = model::PowerIntent::kRunning;
  REQUIRE(store->PutVm(web).ok());
  CHECK(SerialOf(*store) == 2);
  web.synced["git"] = "sha256:other";
  REQUIRE(store->PutVm(web).ok());
  CHECK(SerialOf(*store) == 3);
  CHECK(store->Load()->vms.at("web").synced.at("git") == "sha256:other");

  REQUIRE(store->DeleteKernel("cloud").ok());
  REQUIRE(store->DeleteImage("debian").ok());
  REQUIRE(store->DeleteFileSync("git").ok());
  CHECK(SerialOf(*store) == 6);
  auto snap = store->Load();
  CHECK(snap->kernels.empty());
  CHECK(snap->images.empty());
  CHECK(snap->file_syncs.empty());
  CHECK(snap->vms.size() == 1);
}

TEST_CASE("a failing callback rolls back every operation of its Write") {
  TempDir dir = banger::testing::ScratchDir();
  auto store = OpenStore(dir.path());
  REQUIRE(WriteAllKinds(*store).ok());
  auto before = store->Load();
  REQUIRE(before.ok());

  Status st = store->Write([](StoreTxn& t) -> Status {
    BANGER_RETURN_IF_ERROR(t.DeleteVm("web"));
    BANGER_RETURN_IF_ERROR(t.PutKernel(Kernel("second")));
    return Error(Code::kIo, "boot vm 'web': tap gone");
  });
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message() == "boot vm 'web': tap gone");

  auto after = store->Load();
  REQUIRE(after.ok());
  CHECK(after->serial == before->serial);
  CHECK(after->vms.count("web") == 1);
  CHECK(after->kernels.count("second") == 0);

  // An operation that fails part way (a VM claiming an address it does not
  // own) takes the earlier operations of its Write with it.
  st = store->Write([](StoreTxn& t) -> Status {
    BANGER_RETURN_IF_ERROR(t.PutKernel(Kernel("third")));
    model::VmRecord db = Vm("db");
    db.ip = "10.7.0.9";
    return t.PutVm(db);
  });
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == Code::kInvalidArgument);
  CHECK_THAT(st.error().message(), Catch::Contains("vm 'db'"));
  CHECK(store->Load()->kernels.count("third") == 0);
  CHECK(SerialOf(*store) == before->serial);

  // The store stays usable after a rollback.
  REQUIRE(store->PutKernel(Kernel("fourth")).ok());
  CHECK(SerialOf(*store) == before->serial + 1);
}

TEST_CASE("a transaction sees its own writes; the store refuses nested use") {
  TempDir dir = banger::testing::ScratchDir();
  auto store = OpenStore(dir.path());
  Status st = store->Write([&](StoreTxn& t) -> Status {
    BANGER_RETURN_IF_ERROR(t.PutVm(Vm("web")));
    BANGER_ASSIGN_OR_RETURN(model::StoreSnapshot inside, t.Load());
    CHECK(inside.vms.count("web") == 1);
    CHECK(inside.serial == 0);
    Status nested = store->Write([](StoreTxn&) { return OkStatus(); });
    CHECK_FALSE(nested.ok());
    CHECK(nested.error().code() == Code::kInternal);
    auto load = store->Load();
    CHECK_FALSE(load.ok());
    if (!load.ok()) CHECK(load.error().code() == Code::kInternal);
    return OkStatus();
  });
  REQUIRE(st.ok());
  CHECK(SerialOf(*store) == 1);
}

TEST_CASE("records that do not decode are reported by kind and name") {
  TempDir dir = banger::testing::ScratchDir();
  auto store = OpenStore(dir.path());
  REQUIRE(WriteAllKinds(*store).ok());
  Database raw = RawConnection(dir.path());

  SECTION("a spec missing a field") {
    REQUIRE(raw.Exec(R"(UPDATE vms SET spec = '{"name":"web"}' WHERE name = 'web')").ok());
    auto snap = store->Load();
    REQUIRE_FALSE(snap.ok());
    CHECK(snap.error().code() == Code::kCorruption);
    CHECK(snap.error().message() == "state db '" + dir.path() +
                                        "/state.db': stored vm 'web' does not decode: applied "
                                        "spec: missing field 'image'");
  }
  SECTION("a spec that is not JSON") {
    REQUIRE(raw.Exec("UPDATE kernels SET spec = 'not json' WHERE name = 'cloud'").ok());
    auto snap = store->Load();
    REQUIRE_FALSE(snap.ok());
    CHECK(snap.error().code() == Code::kCorruption);
    CHECK_THAT(snap.error().message(), Catch::Contains("kernel 'cloud'"));
  }
  SECTION("a spec stored under another name") {
    std::string other = specs::ToJson(FileSync("other").spec).dump();
    REQUIRE(raw.Exec("UPDATE file_syncs SET spec = '" + other + "'").ok());
    auto snap = store->Load();
    REQUIRE_FALSE(snap.ok());
    CHECK_THAT(snap.error().message(),
               Catch::Contains("file_sync 'git' does not decode: applied spec is named 'other'"));
  }
  SECTION("synced digests that are not an object") {
    REQUIRE(raw.Exec("UPDATE vms SET synced = '[1]'").ok());
    auto snap = store->Load();
    REQUIRE_FALSE(snap.ok());
    CHECK_THAT(snap.error().message(), Catch::Contains("vm 'web'"));
  }
}

TEST_CASE("puts validate their input") {
  TempDir dir = banger::testing::ScratchDir();
  auto store = OpenStore(dir.path());
  CHECK(store->PutVm(model::VmRecord{}).error().code() == Code::kInvalidArgument);
  model::ImageRecord huge = Image("huge");
  huge.rootfs_bytes = UINT64_MAX;
  CHECK(store->PutImage(huge).error().code() == Code::kInvalidArgument);
  model::KernelRecord bad_utf8 = Kernel("k");
  bad_utf8.version = "\xff\xfe";
  bad_utf8.spec.deb = "\xff";
  Status st = store->PutKernel(bad_utf8);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == Code::kInvalidArgument);
  CHECK(SerialOf(*store) == 0);
}
