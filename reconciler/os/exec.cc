#include "reconciler/os/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "reconciler/os/cancel.h"
#include "reconciler/os/unique_fd.h"

namespace banger {
namespace {

using Clock = std::chrono::steady_clock;

bool NeedsQuoting(const std::string& s) {
  if (s.empty()) return true;
  for (char c : s) {
    if (!(isalnum(static_cast<unsigned char>(c)) || strchr("-_./=:,+@%", c)))
      return true;
  }
  return false;
}

std::string Tail(const std::string& s, size_t n) {
  std::string t = s.size() > n ? "..." + s.substr(s.size() - n) : s;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

}  // namespace

std::string DescribeArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    if (NeedsQuoting(a)) {
      out += '\'';
      for (char c : a) {
        if (c == '\'') out += "'\\''";
        else out += c;
      }
      out += '\'';
    } else {
      out += a;
    }
  }
  return out;
}

std::vector<std::string> DefaultEnvironment() {
  std::vector<std::string> env;
  const char* path = getenv("PATH");
  env.push_back(std::string("PATH=") +
                (path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  for (const char* name : {"HOME", "TMPDIR", "USER"}) {
    if (const char* v = getenv(name)) env.push_back(std::string(name) + "=" + v);
  }
  env.push_back("LANG=C");
  env.push_back("LC_ALL=C");
  return env;
}

std::string FindProgram(const std::string& name,
                        const std::vector<std::string>& extra_dirs) {
  if (name.find('/') != std::string::npos) {
    return access(name.c_str(), X_OK) == 0 ? name : "";
  }
  std::vector<std::string> dirs = extra_dirs;
  const char* path = getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  p += ":/usr/local/sbin:/usr/sbin:/sbin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    if (end > start) dirs.push_back(p.substr(start, end - start));
    start = end + 1;
  }
  for (const auto& d : dirs) {
    std::string candidate = d + "/" + name;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return "";
}

namespace {

// Ends the child's whole process group (it runs in its own, see the fork
// below): SIGTERM first so tools can tidy up, SIGKILL after a grace period.
// Returns once the direct child is reaped.
int StopChild(pid_t pid, std::chrono::milliseconds grace) {
  kill(-pid, SIGTERM);
  kill(pid, SIGTERM);
  const auto until = Clock::now() + grace;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) break;
    if (Clock::now() >= until) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    usleep(20000);
  }
  // Anything left in the group (a daemon the tool started) goes too.
  kill(-pid, SIGKILL);
  return status;
}

}  // namespace

Result<ExecResult> RealCommandRunner::Run(const ExecRequest& request) {
  if (request.argv.empty()) return InvalidArgument("run: empty argv");
  BANGER_RETURN_IF_ERROR(CheckCancelled("run " + Quote(DescribeArgv(request.argv))));
  const std::string program = FindProgram(request.argv[0]);
  if (program.empty()) {
    return Error(Code::kUnavailable,
                 "run " + Quote(request.argv[0]) + ": program not found in PATH");
  }

  int in_pipe[2], out_pipe[2], err_pipe[2], exec_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return Error::FromErrno("pipe");
  UniqueFd in_r(in_pipe[0]), in_w(in_pipe[1]);
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Error::FromErrno("pipe");
  UniqueFd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return Error::FromErrno("pipe");
  UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]);
  // Reports an exec failure from the child; closes on successful exec.
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) return Error::FromErrno("pipe");
  UniqueFd exec_r(exec_pipe[0]), exec_w(exec_pipe[1]);

  UniqueFd file_out;
  if (!request.output_file.empty()) {
    file_out.Reset(open(request.output_file.c_str(),
                        O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
    if (!file_out.valid())
      return Error::FromErrno("open " + Quote(request.output_file));
  }

  std::vector<std::string> env =
      request.env ? *request.env : DefaultEnvironment();
  std::vector<char*> argv_c, env_c;
  for (const auto& a : request.argv) argv_c.push_back(const_cast<char*>(a.c_str()));
  argv_c.push_back(nullptr);
  for (const auto& e : env) env_c.push_back(const_cast<char*>(e.c_str()));
  env_c.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) return Error::FromErrno("fork");
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    setpgid(0, 0);
    dup2(in_r.get(), 0);
    int out_fd = file_out.valid() ? file_out.get() : out_w.get();
    int err_fd = file_out.valid() ? file_out.get() : err_w.get();
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (!request.cwd.empty() && chdir(request.cwd.c_str()) != 0) {
      int e = errno;
      (void)!write(exec_w.get(), &e, sizeof e);
      _exit(127);
    }
    execve(program.c_str(), argv_c.data(), env_c.data());
    int e = errno;
    (void)!write(exec_w.get(), &e, sizeof e);
    _exit(127);
  }

  in_r.Reset();
  out_w.Reset();
  err_w.Reset();
  exec_w.Reset();

  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(exec_r.get(), &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof exec_errno) {
    int status;
    waitpid(pid, &status, 0);
    return Error::FromErrno("exec " + Quote(program), exec_errno);
  }

  ExecResult result;
  const auto deadline = Clock::now() + request.timeout;
  size_t stdin_off = 0;
  if (request.stdin_data.empty()) in_w.Reset();
  else fcntl(in_w.get(), F_SETFL, O_NONBLOCK);

  char buf[65536];
  const int cancel_fd = CancelWakeFd();
  int status = 0;
  bool reaped = false;
  // Until the child has exited: its output pipes may close long before
  // that (output_file mode, or a tool closing its stdout), and the timeout
  // and cancellation must hold for the whole run.
  while (!reaped) {
    auto now = Clock::now();
    if (now >= deadline) {
      result.timed_out = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      break;
    }
    if (CancelRequested()) {
      StopChild(pid, std::chrono::seconds(2));
      return CheckCancelled("run " + Quote(DescribeArgv(request.argv))).error();
    }
    const bool piping = out_r.valid() || err_r.valid() || in_w.valid();
    if (!piping) {
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid || (w < 0 && errno != EINTR)) {
        reaped = w == pid;
        break;
      }
    }
    int wait_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
    pollfd fds[4];
    int nfds = 0;
    if (out_r.valid()) fds[nfds++] = {out_r.get(), POLLIN, 0};
    if (err_r.valid()) fds[nfds++] = {err_r.get(), POLLIN, 0};
    if (in_w.valid()) fds[nfds++] = {in_w.get(), POLLOUT, 0};
    if (cancel_fd >= 0) fds[nfds++] = {cancel_fd, POLLIN, 0};
    // Without pipes there is nothing to wake on but the cancel pipe: poll
    // in short steps for the child's exit.
    int r = poll(fds, nfds, std::min(wait_ms, piping ? 1000 : 50));
    if (r < 0 && errno != EINTR) break;
    for (int i = 0; i < nfds && r > 0; ++i) {
      if (!fds[i].revents || fds[i].fd == cancel_fd) continue;
      if (fds[i].fd == in_w.get()) {
        ssize_t w = write(in_w.get(), request.stdin_data.data() + stdin_off,
                          request.stdin_data.size() - stdin_off);
        if (w > 0) stdin_off += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) in_w.Reset();
        if (stdin_off >= request.stdin_data.size()) in_w.Reset();
        continue;
      }
      UniqueFd& src = fds[i].fd == out_r.get() ? out_r : err_r;
      std::string& dst = fds[i].fd == out_r.get() ? result.out : result.err;
      ssize_t got = read(src.get(), buf, sizeof buf);
      if (got > 0) {
        size_t room = request.output_limit > dst.size()
                          ? request.output_limit - dst.size() : 0;
        dst.append(buf, std::min(room, static_cast<size_t>(got)));
      } else if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        src.Reset();
      }
    }
  }
  in_w.Reset();

  while (!reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  return result;
}

CommandRunner& SystemRunner() {
  static RealCommandRunner runner;
  return runner;
}

Result<ExecResult> RunChecked(CommandRunner& runner, const ExecRequest& request) {
  BANGER_ASSIGN_OR_RETURN(ExecResult r, runner.Run(request));
  const std::string name = request.argv.empty() ? "" : request.argv[0];
  if (r.timed_out) {
    return Error(Code::kTimeout,
                 "run " + Quote(DescribeArgv(request.argv)) + ": timed out after " +
                     std::to_string(request.timeout.count() / 1000) + "s");
  }
  if (r.exit_code != 0) {
    std::string why = r.term_signal ? "killed by signal " + std::to_string(r.term_signal)
                                    : "exit status " + std::to_string(r.exit_code);
    std::string detail = Tail(r.err.empty() ? r.out : r.err, 600);
    return Error(Code::kIo, "run " + Quote(DescribeArgv(request.argv)) + ": " + why +
                                (detail.empty() ? "" : ": " + detail));
  }
  return r;
}

Result<ExecResult> RunChecked(const ExecRequest& request) {
  return RunChecked(SystemRunner(), request);
}

}  // namespace banger
