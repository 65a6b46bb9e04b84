// VM address allocation in the store: lowest free, stable per VM, unique,
// released with the VM, committed together with the VM record.
#include <catch2/catch.hpp>

#include "tests/integration/store/store_fixture.h"

using namespace banger;
using namespace banger::store;
using namespace banger::store::testing;

namespace {

const std::string kSubnet = "172.30.0.0/24";

Result<std::string> CreateVm(Store& store, const std::string& name,
                             const std::string& subnet = kSubnet) {
  std::string ip;
  Status st = store.Write([&](StoreTxn& t) -> Status {
    BANGER_ASSIGN_OR_RETURN(ip, t.AllocateAddress(name, subnet));
    model::VmRecord vm = Vm(name);
    vm.ip = ip;
    return t.PutVm(vm);
  });
  if (!st.ok()) return std::move(st).error();
  return ip;
}

}  // namespace

TEST_CASE("addresses start after the bridge and are stable per VM") {
  TempDir scratch = banger::testing::ScratchDir();
  auto store = OpenStore(scratch.path());
  CHECK(CreateVm(*store, "web").value() == "172.30.0.2");
  CHECK(CreateVm(*store, "db").value() == "172.30.0.3");
  int64_t serial = SerialOf(*store);

  // Asking again returns the same address and changes nothing.
  CHECK(CreateVm(*store, "web").value() == "172.30.0.2");
  CHECK(SerialOf(*store) == serial);
  CHECK(store->AddressOf("web").value() == std::optional<std::string>("172.30.0.2"));
  CHECK(store->AddressOf("cache").value() == std::nullopt);
  CHECK(store->Load()->vms.at("db").ip == "172.30.0.3");
}

TEST_CASE("deleting a VM releases its address for the next VM") {
  TempDir scratch = banger::testing::ScratchDir();
  auto store = OpenStore(scratch.path());
  REQUIRE(CreateVm(*store, "a").ok());
  REQUIRE(CreateVm(*store, "b").ok());
  REQUIRE(CreateVm(*store, "c").ok());
  REQUIRE(store->DeleteVm("b").ok());
  CHECK(store->AddressOf("b").value() == std::nullopt);
  CHECK(CreateVm(*store, "d").value() == "172.30.0.3");
  CHECK(CreateVm(*store, "e").value() == "172.30.0.5");
}

TEST_CASE("an address is allocated together with its VM record or not at all") {
  TempDir scratch = banger::testing::ScratchDir();
  auto store = OpenStore(scratch.path());

  SECTION("allocation after the record in the same Write") {
    Status st = store->Write([](StoreTxn& t) -> Status {
      BANGER_RETURN_IF_ERROR(t.PutVm(Vm("web")));
      return t.AllocateAddress("web", kSubnet).ok() ? OkStatus() : Internal("alloc");
    });
    REQUIRE(st.ok());
    CHECK(store->Load()->vms.at("web").ip == "172.30.0.2");
    CHECK(SerialOf(*store) == 1);
  }
  SECTION("a reservation made before the record lasts until released") {
    // Apply reserves the address, boots the VM with it, then records it.
    auto ip = store->AllocateAddress("web", kSubnet);
    REQUIRE(ip.ok());
    CHECK(*ip == "172.30.0.2");
    CHECK(SerialOf(*store) == 1);
    CHECK(store->Load()->vms.empty());
    // A retried create after a crash gets the same address.
    CHECK(store->AllocateAddress("web", kSubnet).value() == "172.30.0.2");
    CHECK(CreateVm(*store, "db").value() == "172.30.0.3");
    model::VmRecord web = Vm("web");
    web.ip = "172.30.0.2";
    REQUIRE(store->PutVm(web).ok());
    CHECK(store->Load()->vms.at("web").ip == "172.30.0.2");

    // A create that failed gives its reservation back.
    REQUIRE(store->AllocateAddress("cache", kSubnet).ok());
    REQUIRE(store->ReleaseAddress("cache").ok());
    CHECK(store->AddressOf("cache").value() == std::nullopt);
    int64_t serial = SerialOf(*store);
    REQUIRE(store->ReleaseAddress("cache").ok());  // nothing held: no change
    CHECK(SerialOf(*store) == serial);
    CHECK(CreateVm(*store, "cache").value() == "172.30.0.4");
  }
  SECTION("a failed Write releases the address it allocated") {
    Status st = store->Write([](StoreTxn& t) -> Status {
      BANGER_RETURN_IF_ERROR(t.PutVm(Vm("web")));
      BANGER_RETURN_IF_ERROR(t.AllocateAddress("web", kSubnet));
      return Error(Code::kIo, "boot failed");
    });
    REQUIRE_FALSE(st.ok());
    CHECK(CreateVm(*store, "db").value() == "172.30.0.2");
  }
}

TEST_CASE("no address is ever held by two VMs") {
  TempDir scratch = banger::testing::ScratchDir();
  auto store = OpenStore(scratch.path());
  REQUIRE(CreateVm(*store, "web").ok());
  REQUIRE(CreateVm(*store, "db").ok());
  Database raw = RawConnection(scratch.path());
  Status dup = raw.Exec("UPDATE addresses SET ip = '172.30.0.2' WHERE vm = 'db'");
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code() == Code::kFailedPrecondition);
  CHECK_THAT(dup.error().message(), Catch::Contains("UNIQUE"));
}

TEST_CASE("a record cannot claim an address it does not own") {
  TempDir scratch = banger::testing::ScratchDir();
  auto store = OpenStore(scratch.path());
  REQUIRE(CreateVm(*store, "web").ok());
  model::VmRecord web = Vm("web");
  web.ip = "172.30.0.9";
  Status st = store->PutVm(web);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == Code::kInvalidArgument);
  CHECK(st.error().message() ==
        "store vm 'web': record carries address '172.30.0.9' but the vm holds '172.30.0.2'; "
        "addresses come from AllocateAddress");
  // An empty ip keeps the address the VM owns.
  web.ip.clear();
  web.power = model::PowerIntent::kRunning;
  REQUIRE(store->PutVm(web).ok());
  CHECK(store->Load()->vms.at("web").ip == "172.30.0.2");
}

TEST_CASE("a subnet change moves a VM to an address of the new subnet") {
  TempDir scratch = banger::testing::ScratchDir();
  auto store = OpenStore(scratch.path());
  REQUIRE(CreateVm(*store, "web").ok());
  REQUIRE(CreateVm(*store, "db").ok());
  CHECK(CreateVm(*store, "db", "10.50.0.0/24").value() == "10.50.0.2");
  CHECK(CreateVm(*store, "web", "10.50.0.0/24").value() == "10.50.0.3");
  CHECK(CreateVm(*store, "web", "10.50.0.0/24").value() == "10.50.0.3");
}

TEST_CASE("a full subnet and a bad subnet are reported") {
  TempDir scratch = banger::testing::ScratchDir();
  auto store = OpenStore(scratch.path());
  const std::string tiny = "10.9.9.0/29";  // five VM addresses
  for (int i = 0; i < 5; ++i) REQUIRE(CreateVm(*store, "vm" + std::to_string(i), tiny).ok());
  auto full = CreateVm(*store, "one-too-many", tiny);
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().code() == Code::kFailedPrecondition);
  CHECK(full.error().message() ==
        "allocate address for vm 'one-too-many': subnet '10.9.9.0/29' has no free address: all "
        "5 VM addresses are in use");

  auto bad = CreateVm(*store, "x", "10.9.9.0");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == Code::kInvalidArgument);
  CHECK_THAT(bad.error().message(), Catch::Contains("'10.9.9.0'"));
}
