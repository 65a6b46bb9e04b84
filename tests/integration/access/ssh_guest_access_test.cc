// SshGuestAccess against a real sshd: readiness, commands, host key pinning.
#include <catch2/catch.hpp>

#include <cstdio>

#include "reconciler/os/exec.h"
#include "tests/integration/access/test_guest.h"
#include "tests/support/test_env.h"

namespace banger::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

TEST_CASE("WaitForLogin succeeds once sshd accepts banger's key") {
  GuestFixture g;
  Status st = g.access->WaitForLogin("web", GuestFixture::kIp, Clock::now() + std::chrono::seconds(20));
  auto ready = duration_cast<milliseconds>(Clock::now() - g.sshd->started_at());
  INFO(g.sshd->log());
  REQUIRE(st.ok());
  WARN("sshd start to WaitForLogin success: " << ready.count() << " ms");
  CHECK(ready < std::chrono::seconds(10));
  REQUIRE(g.StopSshd());
}

TEST_CASE("WaitForLogin times out while nothing listens") {
  GuestFixture g;
  REQUIRE(g.StopSshd());
  auto start = Clock::now();
  Status st = g.access->WaitForLogin("web", GuestFixture::kIp, start + milliseconds(1200));
  auto took = Clock::now() - start;
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == Code::kTimeout);
  CHECK(st.error().message().find("Connection refused") != std::string::npos);
  CHECK(took >= milliseconds(1000));
  CHECK(took < milliseconds(3000));
}

TEST_CASE("Exec returns the remote exit code and streams stdout and stderr apart") {
  GuestFixture g;
  REQUIRE(g.access->WaitForLogin("web", GuestFixture::kIp, Clock::now() + std::chrono::seconds(20)).ok());
  std::string out, err;
  auto to = [](std::string& s) { return [&s](std::string_view d) { s += d; }; };

  auto code = g.access->Exec("web", GuestFixture::kIp,
                             {"sh", "-c", "echo to-out; echo to-err >&2; exit 3"}, "", to(out), to(err));
  REQUIRE(code.ok());
  CHECK(*code == 3);
  CHECK(out == "to-out\n");
  CHECK(err == "to-err\n");

  // Arguments arrive exactly as given, despite the remote shell.
  out.clear();
  code = g.access->Exec("web", GuestFixture::kIp, {"printf", "[%s]", "a b", "it's", "", "$HOME", "*"},
                        "", to(out), {});
  REQUIRE(code.ok());
  CHECK(*code == 0);
  CHECK(out == "[a b][it's][][$HOME][*]");

  // stdin is delivered and closed; large output is streamed in chunks.
  out.clear();
  code = g.access->Exec("web", GuestFixture::kIp, {"tr", "a-z", "A-Z"}, "hello\n", to(out), {});
  REQUIRE(code.ok());
  CHECK(out == "HELLO\n");
  size_t total = 0, chunks = 0;
  std::string big_input(3 << 20, 'x');
  code = g.access->Exec("web", GuestFixture::kIp, {"cat"}, big_input,
                        [&](std::string_view d) { total += d.size(); ++chunks; }, {});
  REQUIRE(code.ok());
  CHECK(total == big_input.size());
  CHECK(chunks > 1);

  // A command killed by a signal reports 128+N, as a shell would.
  code = g.access->Exec("web", GuestFixture::kIp, {"sh", "-c", "kill -TERM $$"}, "", {}, {});
  REQUIRE(code.ok());
  CHECK(*code == 128 + 15);

  // Round trip: connect, authenticate, run `true`, close.
  constexpr int kRuns = 10;
  auto start = Clock::now();
  for (int i = 0; i < kRuns; ++i) {
    auto c = g.access->Exec("web", GuestFixture::kIp, {"true"}, "", {}, {});
    REQUIRE(c.ok());
    REQUIRE(*c == 0);
  }
  auto per_run = duration_cast<milliseconds>(Clock::now() - start) / kRuns;
  WARN("Exec round trip (new connection + `true`): " << per_run.count() << " ms");

  // The command alone, on one open session.
  auto session = g.access->Connect("web", GuestFixture::kIp, std::chrono::seconds(10));
  REQUIRE(session.ok());
  start = Clock::now();
  for (int i = 0; i < kRuns; ++i) {
    auto c = access::RunRemote(*session, {.command_line = "true"});
    REQUIRE(c.ok());
    REQUIRE(*c == 0);
  }
  auto per_command = duration_cast<milliseconds>(Clock::now() - start) / kRuns;
  WARN("RunRemote on an open session (`true`): " << per_command.count() << " ms");
  REQUIRE(g.StopSshd());
}

TEST_CASE("a host key that does not match the pinned one is refused at once") {
  GuestFixture g;
  const std::string other = GenerateEd25519PublicKey(g.scratch.path(), "impostor");
  REQUIRE(g.access->PinHostKeys("web", GuestFixture::kIp, {other}).ok());

  auto start = Clock::now();
  Status st = g.access->WaitForLogin("web", GuestFixture::kIp, start + std::chrono::seconds(20));
  REQUIRE_FALSE(st.ok());
  CHECK(Clock::now() - start < std::chrono::seconds(3));  // no retrying
  CHECK(st.error().code() == Code::kPermissionDenied);
  CHECK(st.error().message() ==
        "host key of vm 'web' (127.0.0.1) does not match the key pinned at its first boot; "
        "refusing to connect");

  auto code = g.access->Exec("web", GuestFixture::kIp, {"true"}, "", {}, {});
  REQUIRE_FALSE(code.ok());
  CHECK(code.error().code() == Code::kPermissionDenied);

  // The system ssh client, given banger's argv, refuses too.
  auto argv = g.access->ClientArgv("web", GuestFixture::kIp, {"true"});
  argv.insert(argv.begin() + 1, {"-o", "BatchMode=yes", "-F", "/dev/null"});
  auto r = SystemRunner().Run({.argv = argv, .timeout = std::chrono::seconds(20)});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 255);
  CHECK(r->err.find("REMOTE HOST IDENTIFICATION HAS CHANGED") != std::string::npos);
  REQUIRE(g.StopSshd());
}

TEST_CASE("without a pinned key nothing connects") {
  GuestFixture g;
  REQUIRE(g.access->ForgetHostKeys("web").ok());
  Status st = g.access->WaitForLogin("web", GuestFixture::kIp, Clock::now() + std::chrono::seconds(20));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == Code::kFailedPrecondition);
  CHECK(st.error().message().find("no host key is pinned") != std::string::npos);
  REQUIRE(g.StopSshd());
}

TEST_CASE("the system ssh client logs in with banger's argv and with the generated config") {
  GuestFixture g;
  REQUIRE(g.access->WaitForLogin("web", GuestFixture::kIp, Clock::now() + std::chrono::seconds(20)).ok());

  auto argv = g.access->ClientArgv("web", GuestFixture::kIp, {"printf", "%s|", "a b", "it's"});
  argv.insert(argv.begin() + 1, {"-o", "BatchMode=yes", "-F", "/dev/null"});
  auto r = SystemRunner().Run({.argv = argv, .timeout = std::chrono::seconds(20)});
  REQUIRE(r.ok());
  INFO(r->err);
  CHECK(r->exit_code == 0);
  CHECK(r->out == "a b|it's|");

  // `ssh web.vm` through <config>/ssh/config.
  REQUIRE(g.access->WriteSshConfig({{"db", "127.0.0.2"}, {"web", GuestFixture::kIp}}).ok());
  r = SystemRunner().Run({.argv = {"ssh", "-F", g.access->paths().client_config, "-o", "BatchMode=yes",
                                   "web.vm", "echo", "via-config"},
                          .timeout = std::chrono::seconds(20)});
  REQUIRE(r.ok());
  INFO(r->err);
  CHECK(r->exit_code == 0);
  CHECK(r->out == "via-config\n");
  REQUIRE(g.StopSshd());
}

}  // namespace
}  // namespace banger::testing
