// TapPool and HelperClient against the real helper in a throwaway namespace.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>

#include "helper/tun_device.h"
#include "reconciler/net/tap_pool.h"
#include "tests/integration/helper/helper_fixture.h"

namespace banger::testing {
namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

net::TapPoolOptions PoolOptions(const HelperFixture& fx, size_t size) {
  net::TapPoolOptions o;
  o.client = fx.ClientOptions();
  o.bridge = "bg0";
  o.size = size;
  o.fill_threads = 2;
  o.retry_delay = std::chrono::milliseconds(200);
  return o;
}

size_t LinkCount(const HelperFixture& fx, const std::string& prefix) {
  std::string out = Run({"ip", "-n", fx.ns(), "-o", "link", "show"}).out;
  size_t count = 0, pos = 0;
  while ((pos = out.find(": " + prefix, pos)) != std::string::npos) {
    ++count;
    ++pos;
  }
  return count;
}

TEST_CASE("an unreachable helper is reported with the way to start it") {
  auto dir = ScratchDir();
  std::string path = JoinPath(dir.path(), "absent.sock");
  auto client = net::HelperClient::Connect({path, std::chrono::seconds(2)});
  REQUIRE_FALSE(client.ok());
  CHECK(client.error().code() == Code::kUnavailable);
  CHECK(client.error().message() == "root helper not reachable at " + Quote(path) +
                                        ": start it with `sudo banger helper serve --owner " +
                                        std::to_string(getuid()) + "`");
}

TEST_CASE("BANGER_HELPER_SOCKET overrides the default socket path") {
  const char* saved = getenv("BANGER_HELPER_SOCKET");
  std::string restore = saved ? saved : "";
  unsetenv("BANGER_HELPER_SOCKET");
  CHECK(net::DefaultHelperSocketPath() ==
        "/run/banger/helper-" + std::to_string(getuid()) + ".sock");
  setenv("BANGER_HELPER_SOCKET", "/tmp/elsewhere.sock", 1);
  CHECK(net::DefaultHelperSocketPath() == "/tmp/elsewhere.sock");
  if (saved) setenv("BANGER_HELPER_SOCKET", restore.c_str(), 1);
  else unsetenv("BANGER_HELPER_SOCKET");
}

TEST_CASE("the pool fills in parallel, hands out taps without creating, and refills") {
  HelperFixture fx;
  REQUIRE(fx.Client().EnsureBridge("bg0", "172.30.0.1/24").ok());

  auto fill_start = Clock::now();
  auto pool = net::TapPool::Start(PoolOptions(fx, 4));
  REQUIRE(pool.ok());
  REQUIRE((*pool)->WaitUntilFull(std::chrono::seconds(20)));
  double fill_ms = MillisSince(fill_start);
  CHECK((*pool)->CreatedCount() == 4);
  CHECK(LinkCount(fx, "bgt-") == 4);

  // Warm: an Acquire from a full pool (no refill runs while it is timed).
  // Cold: what a VM start costs when a tap is created on the spot. The two
  // alternate so both see the same load on a shared host.
  auto client = fx.Client();
  std::vector<double> warm, cold;
  std::vector<net::AcquiredTap> acquired;
  for (int i = 0; i < 5; ++i) {
    REQUIRE((*pool)->WaitUntilFull(std::chrono::seconds(20)));
    uint64_t created = (*pool)->CreatedCount();
    auto start = Clock::now();
    auto tap = (*pool)->Acquire("web" + std::to_string(i));
    warm.push_back(MillisSince(start));
    REQUIRE(tap.ok());
    CHECK(tap->from_pool);
    CHECK(helper::TapNameOf(tap->fd.get()).value_or("") == tap->name);
    CHECK((*pool)->CreatedCount() <= created + 1);  // at most the refill, never on this path
    acquired.push_back(std::move(tap).value());

    REQUIRE((*pool)->WaitUntilFull(std::chrono::seconds(20)));
    std::string name = "bgt-cold0" + std::to_string(i);
    start = Clock::now();
    auto made = client.CreateTap(name, "bg0");
    REQUIRE(made.ok());
    REQUIRE(client.AssignTap(name, "cold").ok());
    cold.push_back(MillisSince(start));
    made->fd.Reset();
    REQUIRE(client.DeleteTap(name).ok());
  }
  std::sort(cold.begin(), cold.end());
  std::sort(warm.begin(), warm.end());
  // Reported, not asserted: creating a tap costs about a millisecond here,
  // within the scheduling noise of a loaded 2-core host. What the pool
  // guarantees (no creation on the Acquire path) is asserted above.
  WARN("tap for a VM: warm pool min " << warm[0] << " / median " << warm[2]
                                      << " ms, cold create+assign min " << cold[0]
                                      << " / median " << cold[2] << " ms; pool of 4 filled in "
                                      << fill_ms << " ms");

  auto taps = fx.Client().ListTaps();
  REQUIRE(taps.ok());
  size_t assigned = 0;
  for (const auto& t : *taps) {
    for (size_t i = 0; i < acquired.size(); ++i) {
      assigned += (t.name == acquired[i].name && t.vm == "web" + std::to_string(i));
    }
  }
  CHECK(assigned == 5);

  // The pool tops itself up in the background.
  REQUIRE((*pool)->WaitUntilFull(std::chrono::seconds(20)));
  CHECK((*pool)->CreatedCount() == 9);
  CHECK((*pool)->FreeCount() == 4);
  CHECK_FALSE((*pool)->LastFillError().has_value());

  // Release deletes a VM's tap.
  for (auto& tap : acquired) {
    tap.fd.Reset();
    REQUIRE((*pool)->Release(tap.name).ok());
    CHECK(Run({"ip", "-n", fx.ns(), "link", "show", tap.name}).exit_code != 0);
  }

  REQUIRE((*pool)->Drain().ok());
  CHECK(LinkCount(fx, "bgt-") == 0);
  pool->reset();
  CHECK(fx.Teardown().empty());
}

TEST_CASE("an empty pool creates on the spot") {
  HelperFixture fx;
  REQUIRE(fx.Client().EnsureBridge("bg0", "172.30.0.1/24").ok());
  auto pool = net::TapPool::Start(PoolOptions(fx, 0));
  REQUIRE(pool.ok());
  auto tap = (*pool)->Acquire("db");
  REQUIRE(tap.ok());
  CHECK_FALSE(tap->from_pool);
  CHECK((*pool)->CreatedCount() == 1);
  CHECK((*pool)->FreeCount() == 0);
  REQUIRE((*pool)->Release(tap->name).ok());
  pool->reset();
  CHECK(fx.Teardown().empty());
}

TEST_CASE("free taps are adopted by the next pool, never while another pool holds them") {
  HelperFixture fx;
  REQUIRE(fx.Client().EnsureBridge("bg0", "172.30.0.1/24").ok());
  auto first = net::TapPool::Start(PoolOptions(fx, 2));
  REQUIRE(first.ok());
  REQUIRE((*first)->WaitUntilFull(std::chrono::seconds(20)));

  // A second engine at the same time: the first pool's taps are held (busy),
  // so it makes its own.
  auto second = net::TapPool::Start(PoolOptions(fx, 2));
  REQUIRE(second.ok());
  REQUIRE((*second)->WaitUntilFull(std::chrono::seconds(20)));
  CHECK((*second)->CreatedCount() == 2);
  CHECK(LinkCount(fx, "bgt-") == 4);

  // Both pools hand out distinct taps.
  auto a = (*first)->Acquire("vm-a");
  auto b = (*second)->Acquire("vm-b");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->name != b->name);

  // The first engine exits: its free taps stay, known to the helper, and the
  // next pool adopts them instead of creating.
  first->reset();
  second->reset();
  auto third = net::TapPool::Start(PoolOptions(fx, 2));
  REQUIRE(third.ok());
  CHECK((*third)->FreeCount() >= 2);
  CHECK((*third)->CreatedCount() == 0);
  auto c = (*third)->Acquire("vm-c");
  REQUIRE(c.ok());
  CHECK(c->from_pool);
  CHECK(c->name != a->name);
  CHECK(c->name != b->name);

  REQUIRE((*third)->Drain().ok());
  for (auto* t : {&*a, &*b, &*c}) {
    t->fd.Reset();
    REQUIRE(fx.Client().DeleteTap(t->name).ok());
  }
  CHECK(LinkCount(fx, "bgt-") == 0);
  third->reset();
  CHECK(fx.Teardown().empty());
}

TEST_CASE("a tap a killed start left assigned is handed to the VM again, a held one never") {
  HelperFixture fx;
  REQUIRE(fx.Client().EnsureBridge("bg0", "172.30.0.1/24").ok());
  auto pool = net::TapPool::Start(PoolOptions(fx, 1));
  REQUIRE(pool.ok());
  REQUIRE((*pool)->WaitUntilFull(std::chrono::seconds(20)));

  // The start of "web" dies after taking its tap: its fd closes, the
  // helper's record still assigns the tap to "web".
  auto first = (*pool)->Acquire("web");
  REQUIRE(first.ok());
  const std::string abandoned = first->name;
  first->fd.Reset();
  REQUIRE((*pool)->WaitUntilFull(std::chrono::seconds(20)));
  const size_t links = LinkCount(fx, "bgt-");

  auto again = (*pool)->Acquire("web");
  REQUIRE(again.ok());
  CHECK(again->name == abandoned);
  CHECK(again->from_pool);
  CHECK(LinkCount(fx, "bgt-") == links);

  // Held (a VMM has it): another start of "web" gets a tap of its own.
  auto other = (*pool)->Acquire("web");
  REQUIRE(other.ok());
  CHECK(other->name != abandoned);

  // Another VM never gets it.
  again->fd.Reset();
  auto db = (*pool)->Acquire("db");
  REQUIRE(db.ok());
  CHECK(db->name != abandoned);

  REQUIRE((*pool)->Drain().ok());
  for (auto* t : {&*again, &*other, &*db}) {
    t->fd.Reset();
    REQUIRE(fx.Client().DeleteTap(t->name).ok());
  }
  CHECK(LinkCount(fx, "bgt-") == 0);
  pool->reset();
  CHECK(fx.Teardown().empty());
}

TEST_CASE("fill failures are reported and retried") {
  HelperFixture fx;
  // No bridge yet: every fill fails with the helper's reason.
  auto pool = net::TapPool::Start(PoolOptions(fx, 1));
  REQUIRE(pool.ok());
  CHECK_FALSE((*pool)->WaitUntilFull(std::chrono::milliseconds(500)));
  auto error = (*pool)->LastFillError();
  REQUIRE(error.has_value());
  CHECK(error->message().find("bridge 'bg0' was not created by the helper") != std::string::npos);
  // Once the bridge exists the next retry succeeds.
  REQUIRE(fx.Client().EnsureBridge("bg0", "172.30.0.1/24").ok());
  REQUIRE((*pool)->WaitUntilFull(std::chrono::seconds(20)));
  CHECK_FALSE((*pool)->LastFillError().has_value());
  REQUIRE((*pool)->Drain().ok());
  pool->reset();
  CHECK(fx.Teardown().empty());
}

}  // namespace
}  // namespace banger::testing
