// A real banger-agent (the static binary from this build) serving a unix
// socket in a scratch directory, and a host client connected to it. The
// agent is stopped with SIGTERM and reaped when the fixture goes; it kills
// what it still runs on its way out.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>
#include <thread>

#include "reconciler/agent/agent_client.h"
#include "reconciler/agent/agent_exec.h"
#include "reconciler/os/fs.h"
#include "reconciler/vmm/unix_socket.h"
#include "tests/support/test_env.h"

namespace banger::testing {

inline std::string AgentBin() { return JoinPath(BinaryDir(), "guest/agent/banger-agent"); }

inline agentclient::Deadline In(std::chrono::milliseconds d) {
  return std::chrono::steady_clock::now() + d;
}

class AgentFixture {
 public:
  // `guest_root`: where the agent reads /proc and /etc from ("" the host's).
  // `wrapper`: a command that execs the agent in place (same PID), such as
  // `ip netns exec NS unshare --uts`, to run it in namespaces of its own.
  explicit AgentFixture(const std::string& guest_root = "",
                        const std::vector<std::string>& wrapper = {})
      : dir_(ScratchDir("banger-agent-test-")) {
    socket_ = JoinPath(dir_.path(), "agent.sock");
    std::vector<std::string> argv = wrapper;
    for (const std::string& a : {AgentBin(), std::string("--no-vsock"), std::string("--port"),
                                 std::string(), std::string("--unix"), socket_,
                                 std::string("--guest-root"), guest_root})
      argv.push_back(a);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    // The file appears at bind(), before listen(): wait for a connection.
    bool listening = false;
    for (int i = 0; i < 500 && !listening; ++i) {
      listening = vmm::ConnectUnixSocket(socket_).ok();
      if (!listening) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!listening) {
      Stop();
      throw std::runtime_error("banger-agent did not create " + socket_);
    }
  }
  ~AgentFixture() { Stop(); }
  AgentFixture(const AgentFixture&) = delete;
  AgentFixture& operator=(const AgentFixture&) = delete;

  const std::string& dir() const { return dir_.path(); }
  const std::string& socket() const { return socket_; }
  pid_t pid() const { return pid_; }

  agentclient::AgentEndpoint Endpoint() const {
    return {agentclient::AgentEndpoint::Kind::kUnixStream, socket_, 0};
  }

  agentclient::AgentClient Client() const {
    auto c = agentclient::AgentClient::Connect(Endpoint(), In(std::chrono::seconds(10)));
    if (!c.ok()) throw std::runtime_error(c.error().message());
    return std::move(c).value();
  }

  // Stops the agent; returns its wait status.
  int Stop() {
    if (pid_ <= 0) return status_;
    kill(pid_, SIGTERM);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
    return status_;
  }

 private:
  TempDir dir_;
  std::string socket_;
  pid_t pid_ = -1;
  int status_ = 0;
};

struct ExecOutput {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `request` on a fresh connection with `input` on stdin.
inline ExecOutput RunIn(const AgentFixture& agent, agent::ExecStart request,
                        std::string_view input = "") {
  auto client = agent.Client();
  ExecOutput r;
  agentclient::ExecRun run;
  run.request = std::move(request);
  run.stdin_data = input;
  run.out = [&](std::string_view d) { r.out += d; };
  run.err = [&](std::string_view d) { r.err += d; };
  run.deadline = In(std::chrono::seconds(30));
  auto code = agentclient::RunExec(client, run);
  if (!code.ok()) throw std::runtime_error(code.error().message());
  r.code = *code;
  return r;
}

inline agent::ExecStart Argv(std::vector<std::string> argv) {
  agent::ExecStart e;
  e.argv = std::move(argv);
  return e;
}

}  // namespace banger::testing
