// <vm>.vm names through the real helper and a real dnsmasq, inside a
// throwaway namespace: the resolver starts with the bridge, answers only on
// the bridge address, follows name_set/name_remove without restarting,
// is started again by a restarted helper on its own, and dies with the
// helper.
#include <catch2/catch.hpp>

#include <signal.h>

#include <thread>

#include "reconciler/os/fs.h"
#include "tests/integration/helper/helper_fixture.h"

namespace banger::testing {
namespace {

// Asks `server` (inside the fixture's namespace) for `name`'s A record.
std::string Lookup(const HelperFixture& fx, const std::string& name, const std::string& server) {
  auto r = Run({"ip", "netns", "exec", fx.ns(), "/usr/bin/python3",
                std::string(BANGER_SOURCE_DIR) + "/tests/support/dns_query.py", name, server});
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

pid_t ResolverPid(const HelperFixture& fx, const std::string& bridge) {
  auto text = ReadFile(JoinPath(fx.state_dir(), "dns/" + bridge + ".pid"));
  return text.ok() ? static_cast<pid_t>(std::atoi(text->c_str())) : -1;
}

// Polls up to `within` for the answer: names must follow within a second.
bool Eventually(const HelperFixture& fx, const std::string& name, const std::string& want,
                std::chrono::milliseconds within = std::chrono::milliseconds(1000)) {
  auto deadline = std::chrono::steady_clock::now() + within;
  do {
    if (Lookup(fx, name, "172.30.40.1") == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

}  // namespace

TEST_CASE("names: the bridge resolver answers <vm>.vm and follows set/remove without restart") {
  HelperFixture fx;
  fx.InNs({"ip", "link", "set", "lo", "up"});  // the test asks from inside
  auto client = fx.Client();
  Status bridge = client.EnsureBridge("bg0", "172.30.40.1/24");
  INFO((bridge.ok() ? "" : bridge.error().message()));
  REQUIRE(bridge.ok());
  const pid_t dnsmasq = ResolverPid(fx, "bg0");
  REQUIRE(dnsmasq > 0);
  CHECK(kill(dnsmasq, 0) == 0);
  CHECK(Lookup(fx, "web.vm", "172.30.40.1") == "NXDOMAIN");

  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(client.SetName("bg0", "web", "172.30.40.5").ok());
  CHECK(Eventually(fx, "web.vm", "172.30.40.5"));
  WARN("name_set to answer: " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - t0).count() << " ms");
  REQUIRE(client.SetName("bg0", "db", "172.30.40.6").ok());
  REQUIRE(client.SetName("bg0", "web", "172.30.40.7").ok());  // readdressed
  CHECK(Eventually(fx, "web.vm", "172.30.40.7"));
  CHECK(Eventually(fx, "db.vm", "172.30.40.6"));
  REQUIRE(client.RemoveName("web").ok());
  CHECK(Eventually(fx, "web.vm", "NXDOMAIN"));
  CHECK(Lookup(fx, "db.vm", "172.30.40.1") == "172.30.40.6");
  REQUIRE(client.RemoveName("never-there").ok());
  CHECK(ResolverPid(fx, "bg0") == dnsmasq);  // reloaded, never restarted

  // Only the bridge address answers: nothing listens on the namespace's
  // loopback for this resolver.
  CHECK(Lookup(fx, "db.vm", "127.0.0.1") == "TIMEOUT");

  // Names survive a helper restart (read back from the hosts file); the
  // old resolver died with the old helper.
  REQUIRE(fx.StopHelper());
  for (int i = 0; i < 100 && kill(dnsmasq, 0) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(kill(dnsmasq, 0) != 0);
  // The new helper starts the recorded bridge's resolver by itself (as
  // after systemd restarts it): names answer before any ensure_bridge.
  fx.StartHelper();
  auto again = fx.Client();
  CHECK(Eventually(fx, "db.vm", "172.30.40.6", std::chrono::seconds(3)));
  const pid_t second = ResolverPid(fx, "bg0");
  CHECK(second != dnsmasq);
  REQUIRE(again.EnsureBridge("bg0", "172.30.40.1/24").ok());
  CHECK(ResolverPid(fx, "bg0") == second);  // kept, not restarted
  CHECK(fx.Teardown().empty());
  CHECK(kill(second, 0) != 0);
}

TEST_CASE("names: a resolver left by a SIGKILLed helper is stopped by the next one") {
  HelperFixture fx;
  fx.InNs({"ip", "link", "set", "lo", "up"});
  REQUIRE(fx.Client().EnsureBridge("bg0", "172.30.42.1/24").ok());
  const pid_t orphan = ResolverPid(fx, "bg0");
  REQUIRE(orphan > 0);
  kill(fx.helper_pid(), SIGKILL);
  fx.StopHelper();  // reaps it
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(kill(orphan, 0) == 0);  // dnsmasq outlived it: no parent-death signal after setuid
  fx.StartHelper();  // stops the orphan as it starts the bridge's resolver
  REQUIRE(fx.Client().EnsureBridge("bg0", "172.30.42.1/24").ok());
  for (int i = 0; i < 100 && kill(orphan, 0) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(kill(orphan, 0) != 0);
  CHECK(ResolverPid(fx, "bg0") != orphan);
  CHECK(fx.Teardown().empty());
}

TEST_CASE("names: bad name requests are refused before anything runs") {
  HelperFixture fx;
  fx.InNs({"ip", "link", "set", "lo", "up"});
  auto client = fx.Client();
  auto unknown = client.SetName("bg9", "web", "172.30.40.5");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message().find("the helper has no such bridge") != std::string::npos);
  REQUIRE(client.EnsureBridge("bg0", "172.30.41.1/24").ok());
  CHECK_FALSE(client.SetName("bg0", "Bad Name", "172.30.41.5").ok());
  CHECK_FALSE(client.SetName("bg0", "web", "172.30.41").ok());
  CHECK(Lookup(fx, "web.vm", "172.30.41.1") == "NXDOMAIN");
  CHECK(fx.Teardown().empty());
}

}  // namespace banger::testing
