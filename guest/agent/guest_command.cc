#include "guest/agent/guest_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/agent/exec_session.h"
#include "reconciler/os/unique_fd.h"

namespace banger::agent {
namespace {

std::string CommandLine(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

[[noreturn]] void RunChild(const std::vector<std::string>& argv, int err) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    dup2(devnull, 0);
    dup2(devnull, 1);
  }
  dup2(err, 2);
  clearenv();
  const std::string path = std::string(kBasePath) + ":/usr/lib/banger/bin";
  setenv("PATH", path.c_str(), 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  const std::string why = "cannot run " + argv[0] + "\n";
  (void)!write(2, why.data(), why.size());
  _exit(127);
}

}  // namespace

Status RunGuestCommand(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
  if (argv.empty()) return Internal("RunGuestCommand: empty argv");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Error::FromErrno("pipe");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  const pid_t pid = fork();
  if (pid < 0) return Error::FromErrno("fork");
  if (pid == 0) RunChild(argv, write_end.get());
  write_end.Reset();

  std::string err;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{read_end.get(), POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    ssize_t got = read(read_end.get(), buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // the command closed stderr: it is exiting
    err.append(buf, static_cast<size_t>(got));
    if (err.size() > 8192) err.erase(0, err.size() - 8192);
  }
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  const std::string what = Quote(CommandLine(argv));
  if (timed_out)
    return Error(Code::kTimeout, what + " did not finish in " +
                                     std::to_string(timeout.count()) + " s");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return OkStatus();
  const std::string how = WIFEXITED(status)
                              ? "exited " + std::to_string(WEXITSTATUS(status))
                              : "was killed by signal " + std::to_string(WTERMSIG(status));
  return Error(Code::kIo, what + " " + how + (err.empty() ? "" : ": " + err));
}

}  // namespace banger::agent
