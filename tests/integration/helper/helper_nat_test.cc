// NAT rules in banger's own nftables table, inside the test's namespace.
#include <catch2/catch.hpp>

#include "tests/integration/helper/helper_fixture.h"

namespace banger::testing {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string BangerTable(const HelperFixture& fx) {
  return fx.InNs({"nft", "list", "table", "ip", "banger"}).out;
}

TEST_CASE("NAT lives in banger's table only and goes away with the last guest") {
  std::string host_before = MustRun({"nft", "list", "ruleset"}).out;
  HelperFixture fx;
  MustRun({"ip", "netns", "exec", fx.ns(), "nft", "-f", "-"},
          "table inet foreign {\n"
          "  chain input { type filter hook input priority 0; policy accept; tcp dport 9 drop; }\n"
          "  chain post { type nat hook postrouting priority 100; policy accept; }\n"
          "}\n"
          "table ip banger_not {\n  chain c {\n  }\n}\n");
  std::string outside = RulesetOutsideBanger(fx);
  REQUIRE(outside.find("tcp dport 9 drop") != std::string::npos);
  fx.InNs({"sysctl", "-w", "net.ipv4.ip_forward=0"});

  auto client = fx.Client();
  REQUIRE(client.EnsureBridge("bg0", "172.30.0.1/24").ok());
  CHECK_FALSE(BangerTableExists(fx));

  REQUIRE(client.EnableNat("172.30.0.5", "bg0").ok());
  REQUIRE(client.EnableNat("172.30.0.5", "bg0").ok());  // idempotent
  REQUIRE(client.EnableNat("172.30.0.6", "bg0").ok());
  std::string table = BangerTable(fx);
  CHECK(table.find("ip saddr 172.30.0.5 oifname != \"bg0\" masquerade") != std::string::npos);
  CHECK(table.find("ip saddr 172.30.0.6 oifname != \"bg0\" masquerade") != std::string::npos);
  CHECK(table.find("iifname \"bg0\" ip daddr 169.254.169.254 drop") != std::string::npos);
  CHECK(table.find("hook forward") != std::string::npos);
  CHECK(table.find("hook input") != std::string::npos);
  CHECK(Trim(fx.InNs({"sysctl", "-n", "net.ipv4.ip_forward"}).out) == "1");
  CHECK(RulesetOutsideBanger(fx) == outside);

  REQUIRE(client.DisableNat("172.30.0.5").ok());
  table = BangerTable(fx);
  CHECK(table.find("172.30.0.5") == std::string::npos);
  CHECK(table.find("ip saddr 172.30.0.6") != std::string::npos);
  CHECK(table.find("169.254.169.254 drop") != std::string::npos);  // while any NAT is on

  REQUIRE(client.DisableNat("172.30.0.6").ok());
  CHECK_FALSE(BangerTableExists(fx));
  REQUIRE(client.DisableNat("172.30.0.6").ok());  // already off: fine
  CHECK(RulesetOutsideBanger(fx) == outside);

  CHECK(fx.Teardown().empty());
  CHECK(MustRun({"nft", "list", "ruleset"}).out == host_before);  // host untouched
}

TEST_CASE("NAT requests outside the helper's bridges are refused") {
  HelperFixture fx;
  auto client = fx.Client();
  REQUIRE(client.EnsureBridge("bg0", "172.30.0.1/24").ok());
  auto outside = client.EnableNat("10.1.2.3", "bg0");
  REQUIRE_FALSE(outside.ok());
  CHECK(outside.error().message() ==
        "enable NAT for '10.1.2.3': not a guest address in bridge 'bg0''s subnet 172.30.0.1/24");
  auto gateway = client.EnableNat("172.30.0.1", "bg0");
  REQUIRE_FALSE(gateway.ok());
  auto unknown = client.EnableNat("172.30.0.5", "bg7");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code() == Code::kPermissionDenied);
  CHECK_FALSE(BangerTableExists(fx));
  CHECK(fx.Teardown().empty());
}

}  // namespace
}  // namespace banger::testing
