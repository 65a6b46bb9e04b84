// Two connections on one state db, as two banger processes would have: a
// writer waits for the other's write up to the busy timeout, readers see a
// consistent snapshot while a write is in flight.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <thread>
#include <vector>

#include "tests/integration/store/store_fixture.h"

using namespace banger;
using namespace banger::store;
using namespace banger::store::testing;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// Takes the write lock on a second connection, signals, holds it for
// `hold`, then commits a change of its own.
std::future<Status> HoldWriteLock(const std::string& dir, milliseconds hold,
                                  std::promise<void>& locked) {
  return std::async(std::launch::async, [dir, hold, &locked]() -> Status {
    Database other = RawConnection(dir);
    BANGER_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(other, /*immediate=*/true));
    BANGER_RETURN_IF_ERROR(other.Exec("UPDATE state SET serial = serial + 1"));
    locked.set_value();
    std::this_thread::sleep_for(hold);
    return txn.Commit();
  });
}

}  // namespace

TEST_CASE("a write waits for another connection's write to finish") {
  TempDir scratch = banger::testing::ScratchDir();
  auto store = OpenStore(scratch.path());
  std::promise<void> locked;
  auto holder = HoldWriteLock(scratch.path(), milliseconds(400), locked);
  locked.get_future().wait();

  auto start = steady_clock::now();
  Status st = store->PutVm(Vm("web"));
  auto waited = steady_clock::now() - start;
  REQUIRE(holder.get().ok());
  REQUIRE(st.ok());
  CHECK(waited >= milliseconds(300));
  // Both writes landed, one after the other.
  CHECK(SerialOf(*store) == 2);
  CHECK(store->Load()->vms.count("web") == 1);
}

TEST_CASE("a write that waits longer than the busy timeout fails with kBusy") {
  TempDir scratch = banger::testing::ScratchDir();
  Store::Options quick;
  quick.busy_timeout_ms = 150;
  auto store = OpenStore(scratch.path(), quick);
  std::promise<void> locked;
  auto holder = HoldWriteLock(scratch.path(), milliseconds(900), locked);
  locked.get_future().wait();

  auto start = steady_clock::now();
  Status st = store->PutVm(Vm("web"));
  auto waited = steady_clock::now() - start;
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == Code::kBusy);
  CHECK_THAT(st.error().message(), Catch::Contains("'" + scratch.path() + "/state.db'"));
  CHECK(waited >= milliseconds(100));
  CHECK(waited < milliseconds(800));

  REQUIRE(holder.get().ok());
  CHECK(SerialOf(*store) == 1);  // only the holder's change
  CHECK(store->Load()->vms.empty());
  // Once the other writer is done, writing works again.
  REQUIRE(store->PutVm(Vm("web")).ok());
  CHECK(SerialOf(*store) == 2);
}

TEST_CASE("a reader is not blocked by a write in flight and sees the last commit") {
  TempDir scratch = banger::testing::ScratchDir();
  auto store = OpenStore(scratch.path());
  REQUIRE(store->PutKernel(Kernel("cloud")).ok());

  std::promise<void> locked;
  auto holder = HoldWriteLock(scratch.path(), milliseconds(300), locked);
  locked.get_future().wait();
  auto start = steady_clock::now();
  auto snap = store->Load();
  auto took = steady_clock::now() - start;
  REQUIRE(snap.ok());
  CHECK(snap->serial == 1);  // the holder's uncommitted bump is invisible
  CHECK(took < milliseconds(250));
  REQUIRE(holder.get().ok());
  CHECK(SerialOf(*store) == 2);
}

TEST_CASE("two stores writing at once never lose a change") {
  TempDir scratch = banger::testing::ScratchDir();
  { OpenStore(scratch.path()); }
  constexpr int kPerWriter = 25;
  auto writer = [&](const std::string& prefix) {
    return std::async(std::launch::async, [&scratch, prefix]() -> Status {
      auto store = Store::Open(scratch.path());
      if (!store.ok()) return std::move(store).error();
      for (int i = 0; i < kPerWriter; ++i) {
        std::string name = prefix + std::to_string(i);
        BANGER_RETURN_IF_ERROR((*store)->Write([&](StoreTxn& t) -> Status {
          BANGER_RETURN_IF_ERROR(t.PutVm(Vm(name)));
          return t.AllocateAddress(name, "10.20.0.0/24").ok() ? OkStatus()
                                                              : Internal("allocation failed");
        }));
      }
      return OkStatus();
    });
  };
  auto a = writer("a");
  auto b = writer("b");
  REQUIRE(a.get().ok());
  REQUIRE(b.get().ok());

  auto store = OpenStore(scratch.path());
  auto snap = store->Load();
  REQUIRE(snap.ok());
  CHECK(snap->serial == 2 * kPerWriter);
  CHECK(snap->vms.size() == 2 * kPerWriter);
  std::set<std::string> ips;
  for (const auto& [name, vm] : snap->vms) ips.insert(vm.ip);
  CHECK(ips.size() == 2 * kPerWriter);
}

TEST_CASE("processes opening a fresh state db at once all succeed") {
  TempDir scratch = banger::testing::ScratchDir();
  std::vector<std::future<Status>> openers;
  for (int i = 0; i < 4; ++i) {
    openers.push_back(std::async(std::launch::async, [&scratch]() -> Status {
      auto store = Store::Open(scratch.path());
      if (!store.ok()) return std::move(store).error();
      return OkStatus();
    }));
  }
  for (auto& opener : openers) {
    Status st = opener.get();
    INFO((st.ok() ? std::string() : st.error().message()));
    CHECK(st.ok());
  }
  auto store = OpenStore(scratch.path());
  CHECK(SerialOf(*store) == 0);
}
