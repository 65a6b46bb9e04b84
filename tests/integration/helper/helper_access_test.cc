// The real helper's front door: strict decoding over the wire, peer
// admission by SO_PEERCRED, clean shutdown, record surviving a restart.
#include <catch2/catch.hpp>

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper/protocol/protocol.h"
#include "tests/integration/helper/helper_fixture.h"
#include "tests/integration/helper/raw_socket.h"
#include "reconciler/base/version.h"

namespace banger::testing {
namespace {

// Runs `body` in a child that has dropped to `uid`; returns its exit code.
template <typename Body>
int RunAs(uid_t uid, Body body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(uid) != 0 || setuid(uid) != 0) _exit(99);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST_CASE("ping reports version, protocol and owner") {
  HelperFixture fx;
  auto client = fx.Client();
  auto ping = client.Ping();
  REQUIRE(ping.ok());
  CHECK(ping->version == BuildString());
  CHECK(ping->protocol == helper::kProtocolVersion);
  CHECK(ping->owner_uid == kTestOwner);
  CHECK(fx.Teardown().empty());
}

TEST_CASE("malformed requests are answered with an error and change nothing") {
  HelperFixture fx;
  UniqueFd fd = ConnectRaw(fx.socket());
  CHECK(Exchange(fd.get(), R"({"op":"format_disk"})") ==
        R"({"error":{"code":"invalid argument","message":"unknown operation 'format_disk'"},"ok":false})");
  CHECK(Exchange(fd.get(), R"({"op":"delete_tap","name":"lo"})") ==
        R"({"error":{"code":"invalid argument","message":"request 'delete_tap': field 'name': 'lo' does not start with banger's prefix 'bg'"},"ok":false})");
  CHECK(Exchange(fd.get(), R"({"op":"ping","x":1})") ==
        R"({"error":{"code":"invalid argument","message":"request 'ping': unknown field 'x'"},"ok":false})");
  CHECK(Exchange(fd.get(), "{not json") ==
        R"({"error":{"code":"corruption","message":"request is not valid JSON"},"ok":false})");
  // The connection stays usable after a rejected request.
  CHECK(Exchange(fd.get(), R"({"op":"ping"})").find(R"("ok":true)") != std::string::npos);
  fd.Reset();
  CHECK(fx.Teardown().empty());
}

TEST_CASE("the owner and root are served; any other peer is refused") {
  HelperFixture fx;
  std::string socket = fx.socket();
  int stranger = RunAs(kStranger, [&] {
    auto client = net::HelperClient::Connect({socket, std::chrono::seconds(5)});
    if (client.ok()) return 1;
    if (client.error().code() != Code::kPermissionDenied) return 2;
    if (client.error().message() !=
        "root helper: uid 65534 is not allowed; this helper serves uid 4242 and root") {
      return 3;
    }
    return 0;
  });
  CHECK(stranger == 0);
  int owner = RunAs(kTestOwner, [&] {
    auto client = net::HelperClient::Connect({socket, std::chrono::seconds(5)});
    if (!client.ok()) return 1;
    return client->ListTaps().ok() ? 0 : 2;
  });
  CHECK(owner == 0);
  // This test runs as root, which the helper serves although it is not the
  // owner; it also shows the helper keeps serving after refusing someone.
  REQUIRE(getuid() == 0);
  auto as_root = net::HelperClient::Connect({socket, std::chrono::seconds(5)});
  REQUIRE(as_root.ok());
  CHECK(as_root->ListTaps().ok());
  CHECK(fx.Teardown().empty());
}

TEST_CASE("a second helper on the same socket is refused; SIGTERM stops cleanly") {
  HelperFixture fx;
  auto second = Run({HelperBin(), "serve", "--owner", std::to_string(kTestOwner), "--socket",
                     fx.socket(), "--state-dir", fx.state_dir()});
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("a helper is already serving it") != std::string::npos);
  CHECK(fx.Client().Ping().ok());  // the first one is unaffected
  pid_t pid = fx.helper_pid();
  CHECK(fx.StopHelper());          // exit status 0 on SIGTERM
  CHECK(ProcessGone(pid));
  CHECK_FALSE(PathExists(fx.socket()));  // removed on the way out
  CHECK(fx.Teardown().empty());
}

TEST_CASE("the record survives a restart; NAT is restored from it") {
  HelperFixture fx;
  {
    auto client = fx.Client();
    REQUIRE(client.EnsureBridge("bg0", "172.30.0.1/24").ok());
    auto tap = client.CreateTap("bgt-keep01", "bg0");
    REQUIRE(tap.ok());
    REQUIRE(client.EnableNat("172.30.0.5", "bg0").ok());
  }
  REQUIRE(fx.StopHelper());
  // NAT rules lost while the helper was down come back when it starts.
  fx.InNs({"nft", "delete", "table", "ip", "banger"});
  fx.StartHelper();
  CHECK(fx.InNs({"nft", "list", "table", "ip", "banger"}).out.find("ip saddr 172.30.0.5") !=
        std::string::npos);
  auto client = fx.Client();
  REQUIRE(client.DisableNat("172.30.0.5").ok());
  auto taps = client.ListTaps();
  REQUIRE(taps.ok());
  REQUIRE(taps->size() == 1);
  CHECK((*taps)[0].name == "bgt-keep01");
  CHECK(client.DeleteTap("bgt-keep01").ok());
  CHECK(fx.Teardown().empty());
}

TEST_CASE("the client reconnects after the helper restarts") {
  HelperFixture fx;
  auto client = fx.Client();
  REQUIRE(client.Ping().ok());
  REQUIRE(fx.StopHelper());
  fx.StartHelper();
  auto first = client.Ping();  // the old connection is dead: reported, not resent
  CHECK_FALSE(first.ok());
  CHECK(client.Ping().ok());   // the next call reconnects
  CHECK(fx.Teardown().empty());
}

}  // namespace
}  // namespace banger::testing
