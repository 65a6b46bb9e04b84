// Bridges and taps made by the real helper inside a throwaway namespace.
#include <catch2/catch.hpp>

#include <poll.h>

#include <cstring>

#include "helper/tun_device.h"
#include "tests/integration/helper/helper_fixture.h"

namespace banger::testing {
namespace {

// sizeof(struct virtio_net_hdr): a tap with IFF_VNET_HDR prefixes every frame
// with it (linux/virtio_net.h does not compile as C++).
constexpr size_t kVnetHdrLen = 10;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool LinkExists(const HelperFixture& fx, const std::string& name) {
  return Run({"ip", "-n", fx.ns(), "link", "show", name}).exit_code == 0;
}

// Sends an ARP request for `target` out of the tap fd and waits for the
// bridge's reply on the same fd: proof the fd is the tap, attached, up.
bool ArpThroughTap(int fd, const uint8_t target[4]) {
  const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x09};
  const uint8_t sender_ip[4] = {172, 30, 0, 9};
  uint8_t frame[kVnetHdrLen + 42] = {};
  uint8_t* eth = frame + kVnetHdrLen;  // the vnet header stays zero
  std::memset(eth, 0xff, 6);                      // broadcast
  std::memcpy(eth + 6, mac, 6);
  eth[12] = 0x08, eth[13] = 0x06;                 // ARP
  uint8_t* arp = eth + 14;
  arp[0] = 0, arp[1] = 1, arp[2] = 0x08, arp[3] = 0, arp[4] = 6, arp[5] = 4;
  arp[6] = 0, arp[7] = 1;                         // request
  std::memcpy(arp + 8, mac, 6);
  std::memcpy(arp + 14, sender_ip, 4);
  std::memcpy(arp + 24, target, 4);
  if (write(fd, frame, sizeof frame) != static_cast<ssize_t>(sizeof frame)) return false;

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  uint8_t buf[2048];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < static_cast<ssize_t>(kVnetHdrLen + 42)) continue;
    const uint8_t* e = buf + kVnetHdrLen;
    const uint8_t* a = e + 14;
    if (e[12] == 0x08 && e[13] == 0x06 && a[7] == 2 && std::memcmp(a + 14, target, 4) == 0 &&
        std::memcmp(e, mac, 6) == 0) {
      return true;
    }
  }
  return false;
}

TEST_CASE("ensure_bridge creates, addresses and raises the bridge, idempotently") {
  HelperFixture fx;
  auto client = fx.Client();
  REQUIRE(client.EnsureBridge("bg0", "172.30.0.1/24").ok());
  REQUIRE(client.EnsureBridge("bg0", "172.30.0.1/24").ok());
  auto addr = fx.InNs({"ip", "-4", "-o", "addr", "show", "dev", "bg0"});
  CHECK(addr.out.find("inet 172.30.0.1/24") != std::string::npos);
  CHECK(Trim(fx.InNs({"cat", "/sys/class/net/bg0/flags"}).out) == "0x1003");  // UP
  CHECK(Run({"ip", "-n", fx.ns(), "-d", "link", "show", "bg0"}).out.find("bridge ") !=
        std::string::npos);

  // A new address replaces the old one, it is not added beside it.
  REQUIRE(client.EnsureBridge("bg0", "172.31.0.1/24").ok());
  addr = fx.InNs({"ip", "-4", "-o", "addr", "show", "dev", "bg0"});
  CHECK(addr.out.find("inet 172.31.0.1/24") != std::string::npos);
  CHECK(addr.out.find("172.30.0.1") == std::string::npos);
  CHECK(fx.Teardown().empty());
}

TEST_CASE("create_tap: a persistent tap owned by the owner, on the bridge, up, with a live fd") {
  HelperFixture fx;
  auto client = fx.Client();
  REQUIRE(client.EnsureBridge("bg0", "172.30.0.1/24").ok());
  auto tap = client.CreateTap("bgt-3f2a01", "bg0");
  REQUIRE(tap.ok());
  REQUIRE(tap->fd.valid());
  CHECK((fcntl(tap->fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK(helper::TapNameOf(tap->fd.get()).value_or("") == "bgt-3f2a01");

  CHECK(Trim(fx.InNs({"cat", "/sys/class/net/bgt-3f2a01/owner"}).out) == "4242");
  // IFF_TAP 0x2 | IFF_PERSIST 0x800 | IFF_NO_PI 0x1000 | IFF_VNET_HDR 0x4000.
  CHECK(Trim(fx.InNs({"cat", "/sys/class/net/bgt-3f2a01/tun_flags"}).out) == "0x5802");
  auto link = Run({"ip", "-n", fx.ns(), "-d", "link", "show", "bgt-3f2a01"});
  CHECK(link.out.find("master bg0") != std::string::npos);
  CHECK(link.out.find(",UP") != std::string::npos);
  CHECK(link.out.find("persist on") != std::string::npos);

  const uint8_t bridge_ip[4] = {172, 30, 0, 1};
  CHECK(ArpThroughTap(tap->fd.get(), bridge_ip));

  // One attachment at a time: a second open while the fd is held is busy.
  auto busy = client.OpenTap("bgt-3f2a01");
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.error().code() == Code::kBusy);
  tap->fd.Reset();
  CHECK(LinkExists(fx, "bgt-3f2a01"));  // persistent: outlives the fd
  auto reopened = client.OpenTap("bgt-3f2a01");
  REQUIRE(reopened.ok());
  INFO(Run({"ip", "-n", fx.ns(), "-d", "link", "show", "bgt-3f2a01"}).out);
  CHECK(ArpThroughTap(reopened->fd.get(), bridge_ip));
  reopened->fd.Reset();

  auto again = client.CreateTap("bgt-3f2a01", "bg0");
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code() == Code::kAlreadyExists);
  CHECK(fx.Teardown().empty());
}

TEST_CASE("assign_tap, list_taps and delete_tap") {
  HelperFixture fx;
  auto client = fx.Client();
  REQUIRE(client.EnsureBridge("bg0", "172.30.0.1/24").ok());
  REQUIRE(client.CreateTap("bgt-000001", "bg0").ok());
  REQUIRE(client.CreateTap("bgt-000002", "bg0").ok());
  REQUIRE(client.AssignTap("bgt-000001", "web").ok());
  REQUIRE(client.AssignTap("bgt-000001", "web").ok());  // idempotent for the same VM
  auto taken = client.AssignTap("bgt-000001", "db");
  REQUIRE_FALSE(taken.ok());
  CHECK(taken.error().code() == Code::kBusy);
  CHECK(taken.error().message() ==
        "assign tap 'bgt-000001' to 'db': it is assigned to 'web'");

  auto taps = client.ListTaps();
  REQUIRE(taps.ok());
  REQUIRE(taps->size() == 2);
  CHECK((*taps)[0].name == "bgt-000001");
  CHECK((*taps)[0].vm == "web");
  CHECK((*taps)[1].vm.empty());

  REQUIRE(client.DeleteTap("bgt-000001").ok());
  CHECK_FALSE(LinkExists(fx, "bgt-000001"));
  // A tap removed behind the helper's back leaves its list.
  fx.InNs({"ip", "link", "del", "bgt-000002"});
  taps = client.ListTaps();
  REQUIRE(taps.ok());
  CHECK(taps->empty());
  CHECK(fx.Teardown().empty());
}

TEST_CASE("links the helper did not create are refused") {
  HelperFixture fx;
  auto client = fx.Client();
  fx.InNs({"ip", "link", "add", "bg-foreign", "type", "veth", "peer", "name", "bg-foreign-p"});
  fx.InNs({"ip", "link", "add", "bg1", "type", "bridge"});

  auto foreign = client.DeleteTap("bg-foreign");
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.error().code() == Code::kPermissionDenied);
  CHECK(foreign.error().message() == "delete tap 'bg-foreign': the helper did not create it");
  CHECK(LinkExists(fx, "bg-foreign"));

  auto lo = client.DeleteTap("lo");
  REQUIRE_FALSE(lo.ok());
  CHECK(lo.error().message() ==
        "request 'delete_tap': field 'name': 'lo' does not start with banger's prefix 'bg'");
  auto eth0 = client.OpenTap("eth0");
  REQUIRE_FALSE(eth0.ok());
  CHECK(eth0.error().code() == Code::kInvalidArgument);
  CHECK(LinkExists(fx, "lo"));

  auto open_foreign = client.OpenTap("bg-foreign");
  REQUIRE_FALSE(open_foreign.ok());
  CHECK(open_foreign.error().message() == "open tap 'bg-foreign': the helper did not create it");

  auto adopt = client.EnsureBridge("bg1", "172.30.0.1/24");
  REQUIRE_FALSE(adopt.ok());
  CHECK(adopt.error().message().find("a link of that name exists and the helper did not "
                                     "create it") != std::string::npos);
  CHECK(fx.InNs({"ip", "-4", "-o", "addr", "show", "dev", "bg1"}).out.empty());

  auto on_foreign_bridge = client.CreateTap("bgt-000003", "bg1");
  REQUIRE_FALSE(on_foreign_bridge.ok());
  CHECK(on_foreign_bridge.error().code() == Code::kPermissionDenied);
  CHECK_FALSE(LinkExists(fx, "bgt-000003"));

  // A link created under a name the helper would pick is not overwritten.
  REQUIRE(client.EnsureBridge("bg0", "172.30.0.1/24").ok());
  fx.InNs({"ip", "link", "add", "bgt-000004", "type", "veth", "peer", "name", "bgt-000004p"});
  auto clash = client.CreateTap("bgt-000004", "bg0");
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.error().code() == Code::kAlreadyExists);
  CHECK(Run({"ip", "-n", fx.ns(), "-d", "link", "show", "bgt-000004"}).out.find("veth") !=
        std::string::npos);
  CHECK(fx.Teardown().empty());
}

TEST_CASE("taps are created in parallel from several connections") {
  HelperFixture fx;
  REQUIRE(fx.Client().EnsureBridge("bg0", "172.30.0.1/24").ok());
  constexpr int kThreads = 4, kEach = 3;
  std::vector<std::thread> threads;
  std::atomic<int> made{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = net::HelperClient::Connect(fx.ClientOptions());
      if (!client.ok()) return;
      for (int i = 0; i < kEach; ++i) {
        std::string name = "bgt-p" + std::to_string(t) + std::to_string(i);
        if (client->CreateTap(name, "bg0").ok()) ++made;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(made == kThreads * kEach);
  auto taps = fx.Client().ListTaps();
  REQUIRE(taps.ok());
  CHECK(taps->size() == kThreads * kEach);
  CHECK(fx.Teardown().empty());
}

}  // namespace
}  // namespace banger::testing
