#include "reconciler/cli/agent_exec_flow.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <iterator>

#include "reconciler/agent/agent_exec.h"

namespace banger::cli {
namespace {

// The signals `vm exec` forwards, each written as one byte (its number) to
// a pipe by a handler installed for the duration of the run. A handler,
// not a blocked mask and a signalfd: the CLI has threads of its own (the
// tap pool's) that do not block them, and a process-directed signal may
// be delivered to any of them. The previous handlers come back on scope
// exit.
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
std::atomic<int> g_signal_pipe{-1};

void OnForwardedSignal(int sig) {
  const int saved = errno;
  const int fd = g_signal_pipe.load();
  const unsigned char byte = static_cast<unsigned char>(sig);
  if (fd >= 0) (void)!write(fd, &byte, 1);
  errno = saved;
}

class SignalCapture {
 public:
  SignalCapture() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;
    read_.Reset(fds[0]);
    write_.Reset(fds[1]);
    g_signal_pipe.store(write_.get());
    struct sigaction sa {};
    sa.sa_handler = OnForwardedSignal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < std::size(kForwarded); ++i) sigaction(kForwarded[i], &sa, &old_[i]);
  }
  ~SignalCapture() {
    if (!write_.valid()) return;
    for (size_t i = 0; i < std::size(kForwarded); ++i) sigaction(kForwarded[i], &old_[i], nullptr);
    g_signal_pipe.store(-1);
  }
  int fd() const { return read_.get(); }

 private:
  UniqueFd read_;
  UniqueFd write_;
  struct sigaction old_[std::size(kForwarded)] {};
};

// Raw mode for an interactive PTY session: the guest's line discipline
// does the echoing and editing; restored on scope exit.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) != 0) return;
    termios raw = saved_;
    cfmakeraw(&raw);
    active_ = tcsetattr(fd_, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) tcsetattr(fd_, TCSANOW, &saved_);
  }

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

}  // namespace

Result<ExecVia> ParseExecVia(const std::string& text) {
  if (text == "auto") return ExecVia::kAuto;
  if (text == "agent") return ExecVia::kAgent;
  if (text == "ssh") return ExecVia::kSsh;
  return InvalidArgument("--via " + Quote(text) + ": expected auto, agent or ssh");
}

Status ValidateExecOptions(const ExecOptions& options, ExecVia via) {
  if (options.argv.empty()) return InvalidArgument("vm exec: no command given");
  for (const auto& e : options.env) {
    size_t eq = e.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgument("vm exec: --env " + Quote(e) + " is not NAME=value");
  }
  if (!options.cwd.empty() && options.cwd[0] != '/')
    return InvalidArgument("vm exec: --workdir " + Quote(options.cwd) + " is not an absolute path");
  if (options.tty && via == ExecVia::kSsh)
    return InvalidArgument("vm exec: --tty needs the guest agent; `banger vm ssh` gives SSH a terminal");
  return OkStatus();
}

std::vector<std::string> SshExecArgv(const ExecOptions& options) {
  std::vector<std::string> argv;
  if (!options.cwd.empty()) argv = {"sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", options.cwd};
  if (!options.env.empty()) {
    argv.push_back("env");
    argv.insert(argv.end(), options.env.begin(), options.env.end());
  }
  argv.insert(argv.end(), options.argv.begin(), options.argv.end());
  return argv;
}

Result<int> ExecViaAgent(Console& console, const model::VmHandles& handles,
                         const ExecOptions& options, std::chrono::milliseconds connect_timeout) {
  auto endpoint = agentclient::EndpointFor(handles);
  if (!endpoint.ok()) return Error(Code::kUnavailable, "guest agent: " + endpoint.error().message());
  auto client = agentclient::AgentClient::Connect(
      *endpoint, std::chrono::steady_clock::now() + connect_timeout);
  if (!client.ok()) {
    Error e = std::move(client).error().WithContext("guest agent");
    if (e.code() == Code::kTimeout || e.code() == Code::kNotFound) return Error(Code::kUnavailable, e.message());
    return e;
  }

  agentclient::ExecRun run;
  run.request.argv = options.argv;
  run.request.env = options.env;
  // Where an SSH login starts, so both transports agree.
  run.request.cwd = options.cwd.empty() ? "/root" : options.cwd;
  std::optional<RawTerminal> raw;
  if (options.tty) {
    run.request.pty = true;
    winsize ws{};
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
      run.request.rows = ws.ws_row;
      run.request.cols = ws.ws_col;
    }
    run.tty_fd = STDIN_FILENO;
    if (isatty(STDIN_FILENO)) raw.emplace(STDIN_FILENO);
  }
  // A terminal's input is streamed only to a PTY run: without one, as
  // over SSH, the command gets an empty stdin rather than the keyboard.
  if (!console.in_tty || options.tty) run.stdin_fd = STDIN_FILENO;
  run.out = [&](std::string_view d) {
    console.out.write(d.data(), static_cast<std::streamsize>(d.size()));
    console.out.flush();
  };
  run.err = [&](std::string_view d) {
    console.err.write(d.data(), static_cast<std::streamsize>(d.size()));
    console.err.flush();
  };
  SignalCapture signals;
  run.signal_fd = signals.fd();
  return agentclient::RunExec(*client, run);
}

}  // namespace banger::cli
