// The helper's pure rules: the nftables script, the jailer's id and argv,
// peer admission, serve options, the record format.
#include <catch2/catch.hpp>

#include "helper/jail.h"
#include "helper/nat_table.h"
#include "helper/protocol/names.h"
#include "helper/serve_command.h"
#include "helper/server.h"
#include "helper/state_store.h"

namespace banger::helper {
namespace {

TEST_CASE("the NAT script with no guest deletes banger's table and nothing else") {
  CHECK(RenderNatScript({}) == "table ip banger\ndelete table ip banger\n");
}

TEST_CASE("the NAT script masquerades each guest and drops metadata traffic") {
  std::string script =
      RenderNatScript({{"172.30.0.5", "bg0"}, {"172.30.0.6", "bg0"}, {"10.9.0.2", "bg1"}});
  CHECK(script ==
        "table ip banger\n"
        "delete table ip banger\n"
        "table ip banger {\n"
        "  chain postrouting {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        "    ip saddr 172.30.0.5 oifname != \"bg0\" masquerade\n"
        "    ip saddr 172.30.0.6 oifname != \"bg0\" masquerade\n"
        "    ip saddr 10.9.0.2 oifname != \"bg1\" masquerade\n"
        "  }\n"
        "  chain forward {\n"
        "    type filter hook forward priority filter; policy accept;\n"
        "    iifname { \"bg0\", \"bg1\" } ip daddr 169.254.169.254 drop\n"
        "  }\n"
        "  chain input {\n"
        "    type filter hook input priority filter; policy accept;\n"
        "    iifname { \"bg0\", \"bg1\" } ip daddr 169.254.169.254 drop\n"
        "  }\n"
        "}\n");
  // Every statement names banger's table; nothing else is addressed.
  size_t pos = 0;
  while ((pos = script.find("table ", pos)) != std::string::npos) {
    CHECK(script.compare(pos, 15, "table ip banger") == 0);
    pos += 6;
  }
}

TEST_CASE("published ports render DNAT for arriving and local connections") {
  std::vector<PortRecord> ports = {
      {"web", "172.30.0.5", {{"0.0.0.0", 8080, "tcp", 80}, {"127.0.0.1", 2222, "tcp", 22}}},
      {"dns", "172.30.0.6", {{"0.0.0.0", 5353, "udp", 53}}}};
  std::string rules =
      "    fib daddr type local tcp dport 8080 dnat to 172.30.0.5:80\n"
      "    ip daddr 127.0.0.1 tcp dport 2222 dnat to 172.30.0.5:22\n"
      "    fib daddr type local udp dport 5353 dnat to 172.30.0.6:53\n";
  CHECK(RenderNatScript({}, ports, {{"bg0", "172.30.0.1/24"}}) ==
        "table ip banger\n"
        "delete table ip banger\n"
        "table ip banger {\n"
        "  chain prerouting {\n"
        "    type nat hook prerouting priority dstnat; policy accept;\n" + rules +
        "  }\n"
        "  chain output {\n"
        "    type nat hook output priority -100; policy accept;\n" + rules +
        "  }\n"
        "  chain loopback_guard {\n"
        "    type filter hook prerouting priority mangle; policy accept;\n"
        "    iifname != \"lo\" ip daddr 127.0.0.0/8 ct direction original drop\n"
        "  }\n"
        "  chain postrouting {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        "    ip saddr 127.0.0.0/8 ct status dnat masquerade\n"
        "    oifname \"bg0\" ip saddr 172.30.0.0/24 ip daddr 172.30.0.5 ct status dnat "
        "masquerade\n"
        "    oifname \"bg0\" ip saddr 172.30.0.0/24 ip daddr 172.30.0.6 ct status dnat "
        "masquerade\n"
        "  }\n"
        "}\n");
  // A VM with an empty set renders nothing.
  CHECK(RenderNatScript({}, {{"web", "172.30.0.5", {}}}) ==
        "table ip banger\ndelete table ip banger\n");
}

TEST_CASE("published ports collide on protocol, port and overlapping address") {
  CHECK(PortsCollide({"0.0.0.0", 80, "tcp", 1}, {"127.0.0.1", 80, "tcp", 2}));
  CHECK(PortsCollide({"10.0.0.1", 80, "tcp", 1}, {"10.0.0.1", 80, "tcp", 2}));
  CHECK_FALSE(PortsCollide({"10.0.0.1", 80, "tcp", 1}, {"10.0.0.2", 80, "tcp", 1}));
  CHECK_FALSE(PortsCollide({"0.0.0.0", 80, "tcp", 1}, {"0.0.0.0", 80, "udp", 1}));
  CHECK_FALSE(PortsCollide({"0.0.0.0", 80, "tcp", 1}, {"0.0.0.0", 81, "tcp", 1}));
}

TEST_CASE("the jailer's id, directory and argv") {
  JailerSetup setup{"/usr/local/bin/jailer", "/usr/local/bin/firecracker-v1.7", "/srv/jailer"};
  auto id = JailId(1000, "web-1");
  REQUIRE(id.ok());
  CHECK(*id == "banger-1000-web-1");
  CHECK(JailDir(setup, *id) == "/srv/jailer/firecracker-v1.7/banger-1000-web-1");
  CHECK(JailerArgv(setup, *id, 1000, 100) ==
        std::vector<std::string>{"/usr/local/bin/jailer", "--id", "banger-1000-web-1",
                                 "--exec-file", "/usr/local/bin/firecracker-v1.7", "--uid",
                                 "1000", "--gid", "100", "--chroot-base-dir", "/srv/jailer",
                                 "--", "--api-sock", "/firecracker.sock"});
  // The jailer takes only [A-Za-z0-9-], at most 64 characters.
  auto dotted = JailId(1000, "web.lab");
  REQUIRE_FALSE(dotted.ok());
  CHECK(dotted.error().message() ==
        "jail id 'banger-1000-web.lab': the jailer takes at most 64 letters, digits and '-'");
  CHECK_FALSE(JailId(1000, std::string(60, 'a')).ok());
  CHECK_FALSE(JailId(1000, "../x").ok());
}

TEST_CASE("the jailer setup is checked before root runs anything") {
  JailerSetup relative{"jailer", "/usr/bin/firecracker", "/srv/jailer"};
  CHECK(CheckJailerSetup(relative).error().message() ==
        "--jailer: 'jailer' is not an absolute path");
  JailerSetup missing{"/nonexistent/jailer", "/usr/bin/firecracker", "/srv/jailer"};
  CHECK(CheckJailerSetup(missing).error().code() == Code::kNotFound);
  // /bin/sh is root's and not writable by others: acceptable as a binary,
  // but the exec file's name must contain "firecracker".
  JailerSetup misnamed{"/bin/sh", "/bin/sh", "/srv/jailer"};
  CHECK(CheckJailerSetup(misnamed).error().message() ==
        "--firecracker '/bin/sh': the jailer runs only a file whose name contains "
        "'firecracker'");
  JailerSetup tmp_binary{"/tmp", "/bin/sh", "/srv/jailer"};
  CHECK(CheckJailerSetup(tmp_binary).error().message() == "--jailer '/tmp': not a regular file");
}

TEST_CASE("only the owner and root are served") {
  CHECK(PeerAllowed(1000, 1000));
  CHECK(PeerAllowed(0, 1000));
  CHECK_FALSE(PeerAllowed(65534, 1000));
  CHECK_FALSE(PeerAllowed(1001, 1000));
}

TEST_CASE("serve options") {
  auto ok = ParseServeOptions({"--owner", "1000", "--socket", "/tmp/h.sock", "--state-dir",
                               "/tmp/state", "--jailer", "/usr/bin/jailer", "--firecracker",
                               "/usr/bin/firecracker", "--jail-dir", "/var/jail"});
  REQUIRE(ok.ok());
  CHECK(ok->owner_uid == 1000);
  CHECK(ok->socket_path == "/tmp/h.sock");
  CHECK(ok->state_dir == "/tmp/state");
  CHECK(ok->jailer == "/usr/bin/jailer");
  CHECK(ok->firecracker == "/usr/bin/firecracker");
  CHECK(ok->jail_dir == "/var/jail");
  CHECK(ParseServeOptions({"--owner", "1", "--jailer", "/usr/bin/jailer"}).error().message()
            .rfind("--jailer and --firecracker go together", 0) == 0);

  auto defaults = ParseServeOptions({"--owner", "7"});
  REQUIRE(defaults.ok());
  CHECK(defaults->socket_path.empty());
  CHECK(defaults->state_dir == "/var/lib/banger-helper");
  CHECK(defaults->jailer.empty());
  CHECK(defaults->jail_dir == "/srv/jailer");
  CHECK_FALSE(defaults->log_requests);
  auto logging = ParseServeOptions({"--log-requests", "--owner", "7"});
  REQUIRE(logging.ok());
  CHECK(logging->log_requests);
  CHECK(logging->owner_uid == 7);

  CHECK(ParseServeOptions({}).error().message().rfind("--owner is required", 0) == 0);
  CHECK(ParseServeOptions({"--owner", "x1"}).error().message() == "--owner: 'x1' is not a uid");
  CHECK(ParseServeOptions({"--owner"}).error().message() == "--owner needs a value");
  CHECK(ParseServeOptions({"--owner", "1", "--socket", "rel.sock"}).error().message() ==
        "--socket: 'rel.sock' is not an absolute path");
  CHECK(ParseServeOptions({"--owner", "1", "--verbose"}).error().message().rfind(
            "unknown argument '--verbose'", 0) == 0);
}

TEST_CASE("the helper record round-trips and refuses damage") {
  HelperState s;
  s.owner_uid = 1000;
  s.bridges = {{"bg0", "172.30.0.1/24"}};
  s.taps = {{"bgt-1", "bg0", ""}, {"bgt-2", "bg0", "web"}};
  s.nat = {{"172.30.0.5", "bg0"}};
  s.jails = {{"web", "/srv/jailer/firecracker/banger-1000-web", 4321, 987654}};
  s.ports = {{"web", "172.30.0.5", {{"127.0.0.1", 2222, "tcp", 22}}}};
  auto back = DecodeState(EncodeState(s));
  REQUIRE(back.ok());
  CHECK(EncodeState(*back) == EncodeState(s));
  CHECK(back->FindTap("bgt-2")->vm == "web");
  CHECK(back->FindJail("web")->start_ticks == 987654);
  CHECK(back->FindJail("db") == nullptr);
  CHECK(back->FindTap("eth0") == nullptr);
  REQUIRE(back->FindPorts("web") != nullptr);
  CHECK(back->FindPorts("web")->ports == s.ports[0].ports);

  // A record written before jails existed still loads.
  auto older = DecodeState(
      R"({"format":1,"owner_uid":1000,"bridges":[],"taps":[],"nat":[],"loops":[],"dm":[]})");
  REQUIRE(older.ok());
  CHECK(older->jails.empty());
  CHECK(older->ports.empty());

  auto damaged = DecodeState(R"({"format":1,"owner_uid":1000,"bridges":[]})");
  REQUIRE_FALSE(damaged.ok());
  CHECK(damaged.error().code() == Code::kCorruption);
}

TEST_CASE("interface CIDRs") {
  auto c = ParseInterfaceCidr("172.30.0.1/24");
  REQUIRE(c.ok());
  CHECK(FormatIpv4(c->network()) == "172.30.0.0");
  CHECK(FormatIpv4(c->broadcast()) == "172.30.0.255");
  CHECK(c->Contains(ParseIpv4("172.30.0.200").value()));
  CHECK_FALSE(c->Contains(ParseIpv4("172.30.1.2").value()));
  CHECK_FALSE(ParseInterfaceCidr("172.30.0.1/").ok());
  CHECK_FALSE(ParseInterfaceCidr("172.30.0.1/24x").ok());
  CHECK_FALSE(ParseIpv4("1.2.3").ok());
  CHECK_FALSE(ParseIpv4("01.2.3.4.5").ok());
}

}  // namespace
}  // namespace banger::helper
