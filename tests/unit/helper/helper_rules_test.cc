// The helper's pure rules: the nftables script, device-mapper argv, the
// chown_socket path rule, peer admission, serve options, the record format.
#include <catch2/catch.hpp>

#include "helper/block_devices.h"
#include "helper/nat_table.h"
#include "helper/owner_paths.h"
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

TEST_CASE("device-mapper availability is detected, not assumed") {
  auto missing = CheckDeviceMapper("/nonexistent/mapper/control", "/usr/sbin/dmsetup");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == Code::kUnavailable);
  CHECK(missing.error().message() ==
        "device-mapper is not available on this host (no '/nonexistent/mapper/control')");
  // A character device stands in for the control node; without dmsetup it
  // is still unavailable.
  auto no_tool = CheckDeviceMapper("/dev/null", "");
  REQUIRE_FALSE(no_tool.ok());
  CHECK(no_tool.error().message() ==
        "device-mapper is not available on this host (dmsetup is not installed)");
  CHECK(CheckDeviceMapper("/dev/null", "/usr/sbin/dmsetup").ok());
}

TEST_CASE("the snapshot table and dmsetup argv") {
  std::string table = DmSnapshotTable(2097152, "/dev/loop1", "/dev/loop2", true, 8);
  CHECK(table == "0 2097152 snapshot /dev/loop1 /dev/loop2 P 8");
  CHECK(DmSnapshotTable(16, "/dev/loop1", "/dev/loop2", false, 64) ==
        "0 16 snapshot /dev/loop1 /dev/loop2 N 64");
  CHECK(DmCreateArgv("/usr/sbin/dmsetup", "bg-web", table) ==
        std::vector<std::string>{"/usr/sbin/dmsetup", "create", "bg-web", "--table", table});
  CHECK(DmRemoveArgv("dmsetup", "bg-web") ==
        std::vector<std::string>{"dmsetup", "remove", "bg-web"});
  CHECK(DmDevicePath("bg-web") == "/dev/mapper/bg-web");
}

TEST_CASE("chown_socket paths must lie inside an allowed directory") {
  std::vector<std::string> allowed = {"/home/ana", "/run/user/1000"};
  CHECK(CheckSocketPathAllowed("/home/ana/.local/state/banger/web.sock", allowed).ok());
  CHECK(CheckSocketPathAllowed("/run/user/1000/banger/qmp.sock", allowed).ok());
  struct Case {
    const char* path;
    const char* message;
  };
  const Case refused[] = {
      {"/home/anabel/x.sock",
       "'/home/anabel/x.sock' is not inside a directory the helper may change sockets in "
       "('/home/ana', '/run/user/1000')"},
      {"/home/ana", "'/home/ana' is not inside a directory the helper may change sockets in "
                    "('/home/ana', '/run/user/1000')"},
      {"/etc/shadow", "'/etc/shadow' is not inside a directory the helper may change sockets "
                      "in ('/home/ana', '/run/user/1000')"},
      {"/home/ana/../bob/x.sock", "'/home/ana/../bob/x.sock' has a '..' component"},
      {"home/ana/x.sock", "'home/ana/x.sock' is not an absolute path"},
  };
  for (const Case& c : refused) {
    INFO(c.path);
    auto st = CheckSocketPathAllowed(c.path, allowed);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message() == c.message);
  }
  CHECK_FALSE(CheckSocketPathAllowed("/tmp/x.sock", {}).ok());
}

TEST_CASE("only the owner and root are served") {
  CHECK(PeerAllowed(1000, 1000));
  CHECK(PeerAllowed(0, 1000));
  CHECK_FALSE(PeerAllowed(65534, 1000));
  CHECK_FALSE(PeerAllowed(1001, 1000));
}

TEST_CASE("serve options") {
  auto ok = ParseServeOptions({"--owner", "1000", "--socket", "/tmp/h.sock", "--state-dir",
                               "/tmp/state", "--allow-dir", "/tmp/vms"});
  REQUIRE(ok.ok());
  CHECK(ok->owner_uid == 1000);
  CHECK(ok->socket_path == "/tmp/h.sock");
  CHECK(ok->state_dir == "/tmp/state");
  CHECK(ok->allow_dirs == std::vector<std::string>{"/tmp/vms"});

  auto defaults = ParseServeOptions({"--owner", "7"});
  REQUIRE(defaults.ok());
  CHECK(defaults->socket_path.empty());
  CHECK(defaults->state_dir == "/var/lib/banger-helper");

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
  s.loops = {{"/dev/loop3", "/home/u/disk.img", 1234, 66306}};
  s.nat = {{"172.30.0.5", "bg0"}};
  s.dm = {{"bg-web"}};
  auto back = DecodeState(EncodeState(s));
  REQUIRE(back.ok());
  CHECK(EncodeState(*back) == EncodeState(s));
  CHECK(back->FindTap("bgt-2")->vm == "web");
  CHECK(back->FindLoop("/dev/loop3")->inode == 1234);
  CHECK(back->FindTap("eth0") == nullptr);

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
