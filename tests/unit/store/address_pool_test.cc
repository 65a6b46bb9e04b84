#include <catch2/catch.hpp>

#include "reconciler/store/address_pool.h"

using namespace banger;
using namespace banger::store;

namespace {
uint32_t Ip(const char* text) { return ParseIpv4(text).value(); }
}  // namespace

TEST_CASE("IPv4 addresses parse strictly and format back") {
  CHECK(FormatIpv4(Ip("172.30.0.2")) == "172.30.0.2");
  CHECK(FormatIpv4(Ip("0.0.0.0")) == "0.0.0.0");
  CHECK(FormatIpv4(Ip("255.255.255.255")) == "255.255.255.255");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4",
                          " 1.2.3.4", "1.2.3.4 ", "1..3.4", "a.b.c.d", "1.2.3.4/24"}) {
    INFO(bad);
    auto r = ParseIpv4(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("subnets parse with their network, gateway and broadcast") {
  auto s = ParseSubnet("172.30.0.0/24");
  REQUIRE(s.ok());
  CHECK(FormatIpv4(s->network) == "172.30.0.0");
  CHECK(FormatIpv4(s->gateway()) == "172.30.0.1");
  CHECK(FormatIpv4(s->broadcast()) == "172.30.0.255");
  CHECK(s->vm_capacity() == 253);
  CHECK(s->Contains(Ip("172.30.0.77")));
  CHECK_FALSE(s->Contains(Ip("172.30.1.1")));

  CHECK(ParseSubnet("10.0.0.0/8")->vm_capacity() == (1u << 24) - 3);
  CHECK(ParseSubnet("10.0.0.0/30")->vm_capacity() == 1);
}

TEST_CASE("bad subnets are refused with the reason") {
  auto host_bits = ParseSubnet("172.30.0.5/24");
  REQUIRE_FALSE(host_bits.ok());
  CHECK_THAT(host_bits.error().message(), Catch::Contains("did you mean '172.30.0.0/24'"));
  auto tiny = ParseSubnet("10.0.0.0/31");
  REQUIRE_FALSE(tiny.ok());
  CHECK_THAT(tiny.error().message(), Catch::Contains("too small"));
  for (const char* bad : {"172.30.0.0", "172.30.0.0/", "172.30.0.0/33", "172.30.0.0/024",
                          "x/24", "172.30.0.0/24/1"}) {
    INFO(bad);
    auto r = ParseSubnet(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kInvalidArgument);
    CHECK_THAT(r.error().message(), Catch::Contains(std::string("'") + bad + "'"));
  }
}

TEST_CASE("VM addresses exclude network, gateway and broadcast") {
  Ipv4Subnet s = ParseSubnet("192.168.7.0/24").value();
  CHECK_FALSE(IsVmAddress(s, Ip("192.168.7.0")));
  CHECK_FALSE(IsVmAddress(s, Ip("192.168.7.1")));
  CHECK_FALSE(IsVmAddress(s, Ip("192.168.7.255")));
  CHECK_FALSE(IsVmAddress(s, Ip("192.168.8.2")));
  CHECK(IsVmAddress(s, Ip("192.168.7.2")));
  CHECK(IsVmAddress(s, Ip("192.168.7.254")));
}

TEST_CASE("the lowest free address fills holes first") {
  Ipv4Subnet s = ParseSubnet("172.30.0.0/24").value();
  CHECK(FormatIpv4(LowestFreeAddress(s, {}).value()) == "172.30.0.2");
  CHECK(FormatIpv4(LowestFreeAddress(s, {Ip("172.30.0.2"), Ip("172.30.0.3")}).value()) ==
        "172.30.0.4");
  CHECK(FormatIpv4(LowestFreeAddress(s, {Ip("172.30.0.2"), Ip("172.30.0.4")}).value()) ==
        "172.30.0.3");
  // Addresses of another subnet (left over from a subnet change) do not count.
  CHECK(FormatIpv4(LowestFreeAddress(s, {Ip("10.0.0.2"), Ip("172.30.0.1")}).value()) ==
        "172.30.0.2");
}

TEST_CASE("a full subnet is reported, never the broadcast address") {
  Ipv4Subnet s = ParseSubnet("10.1.2.0/29").value();  // .2 .. .6 for VMs
  std::set<uint32_t> taken;
  for (int i = 0; i < 5; ++i) {
    auto next = LowestFreeAddress(s, taken);
    REQUIRE(next.ok());
    CHECK(IsVmAddress(s, *next));
    taken.insert(*next);
  }
  auto full = LowestFreeAddress(s, taken);
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().code() == Code::kFailedPrecondition);
  CHECK(full.error().message() ==
        "subnet '10.1.2.0/29' has no free address: all 5 VM addresses are in use");

  Ipv4Subnet smallest = ParseSubnet("10.1.2.4/30").value();
  CHECK(FormatIpv4(LowestFreeAddress(smallest, {}).value()) == "10.1.2.6");
  CHECK_FALSE(LowestFreeAddress(smallest, {Ip("10.1.2.6")}).ok());
}
