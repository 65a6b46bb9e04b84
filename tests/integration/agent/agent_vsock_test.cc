// The Firecracker transport: the host side of its hybrid vsock is a unix
// socket that expects "CONNECT <port>\n" and answers "OK <port>\n" before
// the stream. A stand-in for Firecracker checks the line and relays to a
// real agent; a refused connection (no listener in the guest yet) is
// kUnavailable, so readiness retries it.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <thread>

#include "reconciler/vmm/unix_socket.h"
#include "tests/integration/agent/agent_fixture.h"

namespace banger::testing {
namespace {

using std::chrono::seconds;

UniqueFd Listen(const std::string& path) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(fd.get(), 4) == 0);
  return fd;
}

// Accepts one connection, reads the CONNECT line into `line`; when
// `agent_socket` is set, answers OK and relays until either side closes,
// else closes at once (Firecracker's answer when nothing listens).
void ServeOne(int listener, std::string agent_socket, std::string* line) {
  UniqueFd c(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  char ch;
  while (read(c.get(), &ch, 1) == 1 && ch != '\n') line->push_back(ch);
  if (agent_socket.empty()) return;
  auto agent = vmm::ConnectUnixSocket(agent_socket);
  if (!agent.ok()) return;
  const char ok[] = "OK 1073741824\n";
  if (write(c.get(), ok, sizeof ok - 1) != sizeof ok - 1) return;
  pollfd fds[2] = {{c.get(), POLLIN, 0}, {agent->get(), POLLIN, 0}};
  char buf[65536];
  for (;;) {
    if (poll(fds, 2, 10000) <= 0) return;
    for (int i = 0; i < 2; ++i) {
      if (!fds[i].revents) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) return;
      if (write(fds[1 - i].fd, buf, static_cast<size_t>(n)) != n) return;
    }
  }
}

TEST_CASE("the firecracker vsock handshake leads to the agent") {
  AgentFixture agent;
  const std::string uds = JoinPath(agent.dir(), "vsock.sock");
  UniqueFd listener = Listen(uds);
  std::string line;
  std::thread relay(ServeOne, listener.get(), agent.socket(), &line);
  model::VmHandles handles;
  handles.vmm = "firecracker";
  handles.channel_socket = uds;
  auto endpoint = agentclient::EndpointFor(handles);
  REQUIRE(endpoint.ok());
  CHECK(endpoint->kind == agentclient::AgentEndpoint::Kind::kFirecrackerVsock);
  {
    auto client = agentclient::AgentClient::Connect(*endpoint, In(seconds(10)));
    REQUIRE(client.ok());
    agentclient::ExecRun run;
    run.request.argv = {"echo", "through vsock"};
    std::string out;
    run.out = [&](std::string_view d) { out += d; };
    run.deadline = In(seconds(20));
    auto code = agentclient::RunExec(*client, run);
    REQUIRE(code.ok());
    CHECK(*code == 0);
    CHECK(out == "through vsock\n");
  }
  relay.join();
  CHECK(line == "CONNECT 1024");
}

TEST_CASE("a refused vsock connection is unavailable, not an error to give up on") {
  TempDir dir = ScratchDir("banger-vsock-");
  const std::string uds = JoinPath(dir.path(), "vsock.sock");
  UniqueFd listener = Listen(uds);
  std::string line;
  std::thread refuse(ServeOne, listener.get(), "", &line);
  auto client = agentclient::AgentClient::Connect(
      {agentclient::AgentEndpoint::Kind::kFirecrackerVsock, uds, 0}, In(seconds(10)));
  refuse.join();
  REQUIRE_FALSE(client.ok());
  CHECK(client.error().code() == Code::kUnavailable);
}

TEST_CASE("endpoints follow the handles") {
  model::VmHandles qemu;
  qemu.vmm = "qemu";
  qemu.channel_socket = "/run/x/channel.sock";
  CHECK(agentclient::EndpointFor(qemu)->kind == agentclient::AgentEndpoint::Kind::kUnixStream);
  qemu.channel_socket = "vsock:1234";
  auto v = agentclient::EndpointFor(qemu);
  REQUIRE(v.ok());
  CHECK(v->kind == agentclient::AgentEndpoint::Kind::kVsock);
  CHECK(v->cid == 1234);
  qemu.channel_socket = "vsock:x";
  CHECK(agentclient::EndpointFor(qemu).error().code() == Code::kCorruption);
  qemu.channel_socket = "";
  CHECK(agentclient::EndpointFor(qemu).error().code() == Code::kNotFound);
}

}  // namespace
}  // namespace banger::testing
