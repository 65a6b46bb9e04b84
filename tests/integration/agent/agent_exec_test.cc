// The real agent binary over a unix socket, driven by the host client:
// health, exec (exit codes, separated output, stdin, env, cwd, signals,
// PTY), and what happens to processes when the host goes away.
#include <signal.h>

#include <catch2/catch.hpp>

#include "guest/agent/exec_session.h"
#include "tests/integration/agent/agent_fixture.h"

namespace banger::testing {
namespace {

using std::chrono::seconds;

bool Alive(pid_t pid) { return kill(pid, 0) == 0; }

// The PID a guest shell wrote with `echo $$ > file` (which creates the
// file before it writes the number).
pid_t WaitForPid(const std::string& file) {
  for (int i = 0; i < 1000; ++i) {
    auto text = ReadFile(file);
    if (text.ok() && !text->empty() && text->back() == '\n') return std::stoi(*text);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("no pid in " << file);
  return -1;
}

TEST_CASE("health reports this kernel's boot id and uptime") {
  AgentFixture agent;
  auto client = agent.Client();
  CHECK_FALSE(client.agent_version().empty());
  auto health = client.Health(In(seconds(10)));
  REQUIRE(health.ok());
  std::string boot_id = *ReadFile("/proc/sys/kernel/random/boot_id");
  boot_id.pop_back();
  CHECK(health->boot_id == boot_id);
  CHECK(health->uptime_ms > 0);
}

TEST_CASE("host keys are reported from /etc/ssh, sorted, comments dropped") {
  TempDir root = ScratchDir("banger-agent-root-");
  WriteFile(root.path(), "etc/ssh/ssh_host_rsa_key.pub", "ssh-rsa BBBB root@x\n");
  WriteFile(root.path(), "etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAA root@x\n");
  WriteFile(root.path(), "etc/ssh/ssh_host_ed25519_key", "private");
  WriteFile(root.path(), "etc/ssh/ssh_host_ecdsa_key.pub", "");  // being written
  AgentFixture agent(root.path());
  auto client = agent.Client();
  auto keys = client.HostKeys(In(seconds(10)));
  REQUIRE(keys.ok());
  CHECK(*keys == std::vector<std::string>{"ssh-ed25519 AAAA", "ssh-rsa BBBB"});
  // Health needs /proc under the root: its absence is an error reply, and
  // the connection stays usable.
  auto health = client.Health(In(seconds(10)));
  REQUIRE_FALSE(health.ok());
  CHECK(health.error().message().find("boot_id") != std::string::npos);
  CHECK(client.HostKeys(In(seconds(10))).ok());
}

TEST_CASE("a malformed frame gets an error and the connection is closed; others go on") {
  AgentFixture agent;
  auto other = agent.Client();
  auto client = agent.Client();
  REQUIRE(client.Send(agent::MsgType::kHealth, 0, "unexpected payload", In(seconds(5))).ok());
  auto reply = client.Receive(In(seconds(10)));
  REQUIRE(reply.ok());
  CHECK(reply->type == agent::MsgType::kError);
  CHECK(*agent::DecodeString(reply->payload, "error") ==
        "agent health: expected no payload, got 18 bytes");
  auto closed = client.Receive(In(seconds(10)));
  REQUIRE_FALSE(closed.ok());
  CHECK(closed.error().code() == Code::kUnavailable);
  CHECK(other.Health(In(seconds(10))).ok());
}

TEST_CASE("exec returns exit codes and keeps stdout and stderr apart") {
  AgentFixture agent;
  auto r = RunIn(agent, Argv({"sh", "-c", "echo out; echo err >&2; exit 3"}));
  CHECK(r.code == 3);
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
  CHECK(RunIn(agent, Argv({"true"})).code == 0);
  CHECK(RunIn(agent, Argv({"false"})).code == 1);
}

TEST_CASE("exec pipes stdin through, env and cwd are applied") {
  AgentFixture agent;
  std::string big(300 * 1024, 'x');  // several frames each way
  auto r = RunIn(agent, Argv({"cat"}), big);
  CHECK(r.code == 0);
  CHECK(r.out == big);

  agent::ExecStart e = Argv({"sh", "-c", "printf '%s|%s|%s' \"$GREETING\" \"$(pwd)\" \"$PATH\""});
  e.env = {"GREETING=hello world"};
  e.cwd = agent.dir();
  r = RunIn(agent, e);
  CHECK(r.code == 0);
  CHECK(r.out == "hello world|" + agent.dir() + "|" + agent::kBasePath);
}

TEST_CASE("a program that cannot run exits 127 or 126 with the reason on stderr") {
  AgentFixture agent;
  auto r = RunIn(agent, Argv({"no-such-program-here"}));
  CHECK(r.code == 127);
  CHECK(r.err == "banger-agent: exec 'no-such-program-here': No such file or directory\n");
  REQUIRE(AtomicWriteFile(JoinPath(agent.dir(), "plain"), "x", 0644).ok());
  r = RunIn(agent, Argv({JoinPath(agent.dir(), "plain")}));
  CHECK(r.code == 126);
  agent::ExecStart e = Argv({"true"});
  e.cwd = "/no/such/dir";
  r = RunIn(agent, e);
  CHECK(r.code == 1);
  CHECK(r.err == "banger-agent: cd '/no/such/dir': No such file or directory\n");
}

TEST_CASE("a process killed by a signal reports 128 + the signal") {
  AgentFixture agent;
  CHECK(RunIn(agent, Argv({"sh", "-c", "kill -9 $$"})).code == 128 + 9);
}

TEST_CASE("signals are forwarded to the process group") {
  AgentFixture agent;
  auto client = agent.Client();
  const uint32_t ch = client.NewChannel();
  REQUIRE(client.Send(agent::MsgType::kExecStart, ch,
                      agent::EncodeExecStart(Argv({"sh", "-c", "sleep 100; echo not reached"})),
                      In(seconds(5))).ok());
  auto started = client.Receive(In(seconds(10)));
  REQUIRE(started.ok());
  REQUIRE(started->type == agent::MsgType::kExecStarted);
  REQUIRE(client.Send(agent::MsgType::kSignal, ch, agent::EncodeU32(SIGTERM), In(seconds(5))).ok());
  auto exit = client.Receive(In(seconds(10)));
  REQUIRE(exit.ok());
  REQUIRE(exit->type == agent::MsgType::kExit);
  auto st = agent::DecodeExit(exit->payload);
  CHECK(st->signaled);
  CHECK(st->code == SIGTERM);
}

TEST_CASE("a pty run sees a terminal of the requested size, and resizes") {
  AgentFixture agent;
  agent::ExecStart e = Argv({"sh", "-c", "stty size; read line; stty size"});
  e.pty = true;
  e.rows = 40;
  e.cols = 120;
  auto client = agent.Client();
  const uint32_t ch = client.NewChannel();
  REQUIRE(client.Send(agent::MsgType::kExecStart, ch, agent::EncodeExecStart(e), In(seconds(5))).ok());
  std::string out;
  auto read_until = [&](const std::string& want) {
    while (out.find(want) == std::string::npos) {
      auto f = client.Receive(In(seconds(10)));
      REQUIRE(f.ok());
      if (f->type == agent::MsgType::kStdout) out += f->payload;
      REQUIRE(f->type != agent::MsgType::kExit);
    }
  };
  read_until("40 120");
  REQUIRE(client.Send(agent::MsgType::kResize, ch, agent::EncodeWindowSize({50, 80}), In(seconds(5))).ok());
  REQUIRE(client.Send(agent::MsgType::kStdin, ch, "go\n", In(seconds(5))).ok());
  read_until("50 80");
}

TEST_CASE("processes of a host that goes away are killed") {
  AgentFixture agent;
  std::string pidfile = JoinPath(agent.dir(), "pid");
  pid_t pid = -1;
  {
    auto client = agent.Client();
    const uint32_t ch = client.NewChannel();
    REQUIRE(client.Send(agent::MsgType::kExecStart, ch,
                        agent::EncodeExecStart(Argv({"sh", "-c", "echo $$ > " + pidfile + "; exec sleep 100"})),
                        In(seconds(5))).ok());
    pid = WaitForPid(pidfile);
  }
  for (int i = 0; i < 500 && Alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK_FALSE(Alive(pid));
}

TEST_CASE("a second hello on a stream starts over: its processes are killed") {
  AgentFixture agent;
  std::string pidfile = JoinPath(agent.dir(), "pid");
  auto client = agent.Client();
  REQUIRE(client.Send(agent::MsgType::kExecStart, client.NewChannel(),
                      agent::EncodeExecStart(Argv({"sh", "-c", "echo $$ > " + pidfile + "; exec sleep 100"})),
                      In(seconds(5))).ok());
  pid_t pid = WaitForPid(pidfile);
  REQUIRE(client.Send(agent::MsgType::kHello, 0, agent::EncodeHello({77}), In(seconds(5))).ok());
  for (;;) {
    auto f = client.Receive(In(seconds(10)));
    REQUIRE(f.ok());
    if (f->type != agent::MsgType::kHelloReply) continue;
    CHECK(agent::DecodeHelloReply(f->payload)->nonce == 77);
    break;
  }
  for (int i = 0; i < 500 && Alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK_FALSE(Alive(pid));
  CHECK(client.Health(In(seconds(10))).ok());
}

TEST_CASE("waiting for an agent retries until it listens, or times out naming why") {
  TempDir dir = ScratchDir("banger-agent-wait-");
  agentclient::AgentEndpoint nowhere{agentclient::AgentEndpoint::Kind::kUnixStream,
                                     JoinPath(dir.path(), "none.sock"), 0};
  auto none = agentclient::WaitForAgent(nowhere, In(std::chrono::milliseconds(700)));
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code() == Code::kTimeout);
  CHECK(none.error().message().find("the guest agent did not answer in time; last error: connect") == 0);

  AgentFixture agent;
  auto health = agentclient::WaitForAgent(agent.Endpoint(), In(seconds(10)));
  REQUIRE(health.ok());
  CHECK_FALSE(health->boot_id.empty());
}

TEST_CASE("the agent kills what it runs when it is stopped") {
  AgentFixture agent;
  std::string pidfile = JoinPath(agent.dir(), "pid");
  auto client = agent.Client();
  REQUIRE(client.Send(agent::MsgType::kExecStart, client.NewChannel(),
                      agent::EncodeExecStart(Argv({"sh", "-c", "echo $$ > " + pidfile + "; exec sleep 100"})),
                      In(seconds(5))).ok());
  pid_t pid = WaitForPid(pidfile);
  int status = agent.Stop();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (int i = 0; i < 500 && Alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK_FALSE(Alive(pid));
}

}  // namespace
}  // namespace banger::testing
