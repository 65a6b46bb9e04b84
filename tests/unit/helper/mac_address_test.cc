// MAC derivation (reconciler/net): stable, locally administered, unicast.
#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include "reconciler/net/mac_address.h"

namespace banger::net {
namespace {

TEST_CASE("the MAC of a VM is stable, locally administered and unicast") {
  std::string mac = MacAddressForVm("web");
  CHECK(mac == MacAddressForVm("web"));
  CHECK(std::regex_match(mac, std::regex("02(:[0-9a-f]{2}){5}")));
  // Pinned: a change of the derivation would readdress every existing VM.
  CHECK(MacAddressForVm("") == "02:cb:f2:9c:e4:84");
}

TEST_CASE("different VMs get different MACs") {
  std::set<std::string> macs;
  for (int i = 0; i < 1000; ++i) macs.insert(MacAddressForVm("vm-" + std::to_string(i)));
  CHECK(macs.size() == 1000);
  CHECK(MacAddressForVm("web") != MacAddressForVm("web2"));
}

}  // namespace
}  // namespace banger::net
