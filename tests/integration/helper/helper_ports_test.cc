// Published ports: DNAT rules in banger's table carry connections made to
// the host's ports to a "guest" (a namespace behind the helper's bridge),
// both from the host itself and from a second namespace routed through it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <functional>

#include "tests/integration/helper/helper_fixture.h"

namespace banger::testing {
namespace {

using helper::PublishedPort;

// Runs `f` on a thread that has entered the network namespace `ns`: sockets
// it creates live in that namespace for good.
int InNetns(const std::string& ns, const std::function<int()>& f) {
  int result = -1;
  std::thread t([&] {
    UniqueFd nsfd(open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
    if (!nsfd.valid() || setns(nsfd.get(), CLONE_NEWNET) != 0) return;
    result = f();
  });
  t.join();
  return result;
}

sockaddr_in Address(const std::string& ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

UniqueFd Listener(const std::string& ns, int type, int port) {
  return UniqueFd(InNetns(ns, [&] {
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = Address("0.0.0.0", port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
    if (type == SOCK_STREAM && listen(fd, 8) != 0) return -1;
    return fd;
  }));
}

bool Readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, ms) == 1;
}

// Connects from namespace `ns` to ip:port and, when `listener` accepts it,
// returns the peer address the guest saw ("" when nothing arrived).
std::string TcpThrough(const std::string& ns, const std::string& ip, int port, int listener) {
  UniqueFd client(InNetns(ns, [&] {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a = Address(ip, port);
    connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    return fd;
  }));
  if (!Readable(listener, 2000)) return "";
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  UniqueFd conn(accept4(listener, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
  if (!conn.valid()) return "";
  // The reply must make it back too.
  if (write(conn.get(), "x", 1) != 1 || !Readable(client.get(), 2000)) return "";
  char c = 0;
  if (read(client.get(), &c, 1) != 1 || c != 'x') return "";
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
  return text;
}

// A datagram from `ns` to ip:port, answered by the guest's `listener`.
bool UdpThrough(const std::string& ns, const std::string& ip, int port, int listener) {
  UniqueFd client(InNetns(ns, [] { return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); }));
  sockaddr_in a = Address(ip, port);
  if (sendto(client.get(), "q", 1, 0, reinterpret_cast<sockaddr*>(&a), sizeof a) != 1) return false;
  if (!Readable(listener, 2000)) return false;
  char c = 0;
  sockaddr_in from{};
  socklen_t len = sizeof from;
  if (recvfrom(listener, &c, 1, 0, reinterpret_cast<sockaddr*>(&from), &len) != 1) return false;
  if (sendto(listener, "r", 1, 0, reinterpret_cast<sockaddr*>(&from), len) != 1) return false;
  if (!Readable(client.get(), 2000)) return false;
  return recv(client.get(), &c, 1, 0) == 1 && c == 'r';
}

// The guest and client namespaces around the fixture's "host" namespace.
struct Topology {
  std::string guest, client, neighbour;
  explicit Topology(const HelperFixture& fx)
      : guest(fx.ns() + "-g"), client(fx.ns() + "-c"), neighbour(fx.ns() + "-n") {
    MustRun({"ip", "netns", "add", guest});
    MustRun({"ip", "netns", "add", client});
    MustRun({"ip", "netns", "add", neighbour});
    const std::string& h = fx.ns();
    MustRun({"ip", "-n", h, "link", "set", "lo", "up"});
    MustRun({"ip", "-n", h, "link", "add", "gport", "type", "veth", "peer", "name", "eth0",
             "netns", guest});
    MustRun({"ip", "-n", h, "link", "set", "gport", "master", "bg0", "up"});
    MustRun({"ip", "-n", guest, "addr", "add", "172.30.0.5/24", "dev", "eth0"});
    MustRun({"ip", "-n", guest, "link", "set", "eth0", "up"});
    MustRun({"ip", "-n", guest, "link", "set", "lo", "up"});
    MustRun({"ip", "-n", guest, "route", "add", "default", "via", "172.30.0.1"});
    MustRun({"ip", "-n", h, "link", "add", "outside", "type", "veth", "peer", "name", "eth0",
             "netns", client});
    MustRun({"ip", "-n", h, "addr", "add", "10.99.0.1/24", "dev", "outside"});
    MustRun({"ip", "-n", h, "link", "set", "outside", "up"});
    MustRun({"ip", "-n", client, "addr", "add", "10.99.0.2/24", "dev", "eth0"});
    MustRun({"ip", "-n", client, "link", "set", "eth0", "up"});
    MustRun({"ip", "-n", client, "route", "add", "default", "via", "10.99.0.1"});
    // A second guest on the same bridge.
    MustRun({"ip", "-n", h, "link", "add", "nport", "type", "veth", "peer", "name", "eth0",
             "netns", neighbour});
    MustRun({"ip", "-n", h, "link", "set", "nport", "master", "bg0", "up"});
    MustRun({"ip", "-n", neighbour, "addr", "add", "172.30.0.7/24", "dev", "eth0"});
    MustRun({"ip", "-n", neighbour, "link", "set", "eth0", "up"});
    MustRun({"ip", "-n", neighbour, "route", "add", "default", "via", "172.30.0.1"});
  }
  ~Topology() {
    Run({"ip", "netns", "del", guest});
    Run({"ip", "netns", "del", client});
    Run({"ip", "netns", "del", neighbour});
  }
};

TEST_CASE("Published ports reach the guest from the host and from another namespace") {
  std::string host_before = MustRun({"nft", "list", "ruleset"}).out;
  HelperFixture fx;
  MustRun({"ip", "netns", "exec", fx.ns(), "nft", "-f", "-"},
          "table inet foreign {\n"
          "  chain pre { type nat hook prerouting priority -100; policy accept; }\n"
          "}\n");
  std::string outside = RulesetOutsideBanger(fx);
  auto client = fx.Client();
  REQUIRE(client.EnsureBridge("bg0", "172.30.0.1/24").ok());
  {
    Topology topo(fx);
    UniqueFd web = Listener(topo.guest, SOCK_STREAM, 80);
    UniqueFd ssh = Listener(topo.guest, SOCK_STREAM, 22);
    UniqueFd dns = Listener(topo.guest, SOCK_DGRAM, 53);
    REQUIRE(web.valid());
    REQUIRE(ssh.valid());
    REQUIRE(dns.valid());

    std::vector<PublishedPort> ports = {{"0.0.0.0", 8080, "tcp", 80},
                                        {"127.0.0.1", 2222, "tcp", 22},
                                        {"0.0.0.0", 5353, "udp", 53}};
    REQUIRE(client.SetPorts("web", "172.30.0.5", ports).ok());
    REQUIRE(client.SetPorts("web", "172.30.0.5", ports).ok());  // idempotent
    std::string table = fx.InNs({"nft", "list", "table", "ip", "banger"}).out;
    CHECK(table.find("tcp dport 8080 dnat to 172.30.0.5:80") != std::string::npos);
    CHECK(table.find("ip daddr 127.0.0.1 tcp dport 2222 dnat to 172.30.0.5:22") !=
          std::string::npos);
    CHECK(table.find("udp dport 5353 dnat to 172.30.0.5:53") != std::string::npos);
    CHECK(RulesetOutsideBanger(fx) == outside);

    // From the host itself: loopback (masqueraded to the bridge address)
    // and the host's own address (the guest sees that address).
    CHECK(TcpThrough(fx.ns(), "127.0.0.1", 2222, ssh.get()) == "172.30.0.1");
    CHECK(TcpThrough(fx.ns(), "127.0.0.1", 8080, web.get()) == "172.30.0.1");
    CHECK(TcpThrough(fx.ns(), "10.99.0.1", 8080, web.get()) == "10.99.0.1");
    CHECK(UdpThrough(fx.ns(), "10.99.0.1", 5353, dns.get()));
    // From another namespace: the guest sees the real client.
    CHECK(TcpThrough(topo.client, "10.99.0.1", 8080, web.get()) == "10.99.0.2");
    CHECK(UdpThrough(topo.client, "10.99.0.1", 5353, dns.get()));
    // Another guest on the bridge, through the host's address (hairpin):
    // masqueraded, or the answer would bypass the DNAT.
    CHECK(TcpThrough(topo.neighbour, "10.99.0.1", 8080, web.get()) == "172.30.0.1");
    // 2222 is published on loopback only.
    CHECK(TcpThrough(topo.client, "10.99.0.1", 2222, ssh.get()).empty());
    // A guest cannot reach the host's loopback through route_localnet.
    CHECK(Run({"sysctl", "-n", "net.ipv4.conf.all.route_localnet"}).out == "0\n");

    // Another VM claiming a held host port is refused, naming the holder.
    auto clash = client.SetPorts("db", "172.30.0.6", {{"10.99.0.1", 8080, "tcp", 5432}});
    REQUIRE_FALSE(clash.ok());
    CHECK(clash.error().code() == Code::kBusy);
    CHECK(clash.error().message().find("already published by vm 'web'") != std::string::npos);
    REQUIRE(client.SetPorts("db", "172.30.0.6", {{"10.99.0.1", 8080, "udp", 5432}}).ok());

    // An update replaces the set.
    REQUIRE(client.SetPorts("web", "172.30.0.5", {{"0.0.0.0", 8080, "tcp", 80}}).ok());
    CHECK(TcpThrough(fx.ns(), "127.0.0.1", 2222, ssh.get()).empty());
    CHECK(TcpThrough(topo.client, "10.99.0.1", 8080, web.get()) == "10.99.0.2");

    REQUIRE(client.ClearPorts("web").ok());
    REQUIRE(client.ClearPorts("web").ok());  // nothing left: fine
    CHECK(TcpThrough(topo.client, "10.99.0.1", 8080, web.get()).empty());
    REQUIRE(client.SetPorts("db", "172.30.0.6", {}).ok());  // empty set = clear
    CHECK_FALSE(BangerTableExists(fx));
    CHECK(RulesetOutsideBanger(fx) == outside);
  }
  CHECK(fx.Teardown().empty());
  CHECK(MustRun({"nft", "list", "ruleset"}).out == host_before);
}

TEST_CASE("A restarted helper restores published ports from its record") {
  HelperFixture fx;
  {
    auto client = fx.Client();
    REQUIRE(client.EnsureBridge("bg0", "172.30.0.1/24").ok());
    REQUIRE(client.SetPorts("web", "172.30.0.5", {{"127.0.0.1", 2222, "tcp", 22}}).ok());
  }
  REQUIRE(fx.StopHelper());
  fx.InNs({"nft", "delete", "table", "ip", "banger"});  // as a flushed ruleset would
  CHECK_FALSE(BangerTableExists(fx));
  fx.StartHelper();
  CHECK(fx.InNs({"nft", "list", "table", "ip", "banger"}).out.find(
            "ip daddr 127.0.0.1 tcp dport 2222 dnat to 172.30.0.5:22") != std::string::npos);
  REQUIRE(fx.Client().ClearPorts("web").ok());
  CHECK_FALSE(BangerTableExists(fx));
  CHECK(fx.Teardown().empty());
}

TEST_CASE("Published ports are refused for addresses outside the helper's bridges") {
  HelperFixture fx;
  auto client = fx.Client();
  REQUIRE(client.EnsureBridge("bg0", "172.30.0.1/24").ok());
  auto r = client.SetPorts("web", "10.1.2.3", {{"0.0.0.0", 8080, "tcp", 80}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("not a guest address") != std::string::npos);
  auto bad = client.SetPorts("web", "172.30.0.5", {{"0.0.0.0", 0, "tcp", 80}});
  REQUIRE_FALSE(bad.ok());
  CHECK_FALSE(BangerTableExists(fx));
  CHECK(fx.Teardown().empty());
}

}  // namespace
}  // namespace banger::testing
