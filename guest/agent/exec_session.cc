#include "guest/agent/exec_session.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <vector>

namespace banger::agent {
namespace {

Status MakePipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Error::FromErrno("create pipe");
  read_end.Reset(fds[0]);
  write_end.Reset(fds[1]);
  return OkStatus();
}

Status SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return Error::FromErrno("set O_NONBLOCK");
  }
  return OkStatus();
}

// Only async-signal-safe calls from here on: the child of fork().
[[noreturn]] void ChildFail(const char* what, const std::string& object, int err) {
  std::string msg = "banger-agent: " + std::string(what) + " '" + object + "': " + strerror(err) + "\n";
  ssize_t ignored = write(2, msg.data(), msg.size());
  (void)ignored;
  _exit(err == ENOENT && std::string(what) == "exec" ? 127 : (std::string(what) == "exec" ? 126 : 1));
}

[[noreturn]] void RunChild(const ExecStart& req, int in, int out, int err, const char* pty_slave) {
  // The agent ignores SIGPIPE and blocks SIGCHLD; an exec'd program must
  // start with the defaults.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  setsid();
  if (pty_slave != nullptr) {
    int slave = open(pty_slave, O_RDWR);
    if (slave < 0) ChildFail("open", pty_slave, errno);
    ioctl(slave, TIOCSCTTY, 0);
    in = out = err = slave;
  }
  dup2(in, 0);
  dup2(out, 1);
  dup2(err, 2);
  clearenv();
  setenv("PATH", kBasePath, 1);
  setenv("HOME", "/root", 1);
  setenv("USER", "root", 1);
  setenv("LOGNAME", "root", 1);
  setenv("SHELL", "/bin/sh", 1);
  if (pty_slave != nullptr) setenv("TERM", "xterm-256color", 1);
  for (const auto& e : req.env) {
    size_t eq = e.find('=');
    setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
  }
  const std::string cwd = req.cwd.empty() ? "/" : req.cwd;
  if (chdir(cwd.c_str()) != 0) ChildFail("cd", cwd, errno);
  std::vector<char*> argv;
  for (const auto& a : req.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  ChildFail("exec", req.argv[0], errno);
}

}  // namespace

Result<std::unique_ptr<ExecSession>> ExecSession::Start(const ExecStart& req) {
  std::unique_ptr<ExecSession> s(new ExecSession());
  s->pty_ = req.pty;
  UniqueFd child_in, child_out, child_err;
  std::string slave_name;
  if (req.pty) {
    UniqueFd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master.valid()) return Error::FromErrno("open a pty");
    if (grantpt(master.get()) != 0 || unlockpt(master.get()) != 0) {
      return Error::FromErrno("unlock the pty");
    }
    char name[128];
    if (ptsname_r(master.get(), name, sizeof name) != 0) return Error::FromErrno("name the pty");
    slave_name = name;
    if (req.rows != 0 || req.cols != 0) {
      winsize ws{req.rows, req.cols, 0, 0};
      ioctl(master.get(), TIOCSWINSZ, &ws);
    }
    s->stdin_.Reset(fcntl(master.get(), F_DUPFD_CLOEXEC, 3));
    if (!s->stdin_.valid()) return Error::FromErrno("duplicate the pty");
    s->stdout_ = std::move(master);
  } else {
    BANGER_RETURN_IF_ERROR(MakePipe(child_in, s->stdin_));
    BANGER_RETURN_IF_ERROR(MakePipe(s->stdout_, child_out));
    BANGER_RETURN_IF_ERROR(MakePipe(s->stderr_, child_err));
  }
  for (const UniqueFd* fd : {&s->stdin_, &s->stdout_, &s->stderr_}) {
    if (fd->valid()) BANGER_RETURN_IF_ERROR(SetNonBlocking(fd->get()));
  }
  pid_t pid = fork();
  if (pid < 0) return Error::FromErrno("fork for " + Quote(req.argv[0]));
  if (pid == 0) {
    RunChild(req, child_in.get(), child_out.get(), child_err.get(),
             req.pty ? slave_name.c_str() : nullptr);
  }
  s->pid_ = pid;
  return s;
}

ExecSession::~ExecSession() {
  // The agent's SIGCHLD handling reaps it; nobody waits for its output.
  if (pid_ > 0 && !exit_ && kill(-pid_, SIGKILL) != 0) kill(pid_, SIGKILL);  // see Signal()
}

Result<std::string> ExecSession::ReadOutput(int fd, size_t max) {
  std::string buf(max, '\0');
  ssize_t n;
  do {
    n = read(fd, buf.data(), buf.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::string();  // nothing now; the descriptor stays open
  UniqueFd& owner = fd == stdout_.get() ? stdout_ : stderr_;
  // A PTY master reads EIO once the last slave descriptor is closed.
  if (n < 0 && !(pty_ && errno == EIO)) {
    Error e = Error::FromErrno("read process output");
    owner.Reset();
    return e;
  }
  if (n <= 0) {
    owner.Reset();
    return std::string();
  }
  buf.resize(static_cast<size_t>(n));
  return buf;
}

int ExecSession::stdin_fd_to_poll() const {
  return stdin_.valid() && (!pending_input_.empty() || close_input_) ? stdin_.get() : -1;
}

void ExecSession::QueueStdin(std::string_view data) {
  if (stdin_.valid() && !close_input_) pending_input_.append(data);
}

void ExecSession::CloseStdin() {
  if (pty_) {
    // A terminal has no EOF of its own: the line discipline turns VEOF
    // (^D) at the start of a line into one for the reader.
    pending_input_.push_back('\x04');
    return;
  }
  close_input_ = true;
}

void ExecSession::WriteStdin() {
  while (!pending_input_.empty()) {
    ssize_t n = write(stdin_.get(), pending_input_.data(), pending_input_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0) {
      pending_input_.clear();
      stdin_.Reset();
      return;
    }
    pending_input_.erase(0, static_cast<size_t>(n));
  }
  if (close_input_) stdin_.Reset();
}

Status ExecSession::Signal(int signal) {
  if (exit_) return OkStatus();
  // Until the child has called setsid() its group does not exist yet: the
  // signal goes to the child itself, which is still the whole job.
  int rc = kill(-pid_, signal);
  if (rc != 0 && errno == ESRCH) rc = kill(pid_, signal);
  if (rc != 0 && errno != ESRCH) {
    return Error::FromErrno("signal " + std::to_string(signal) + " to process " + std::to_string(pid_));
  }
  return OkStatus();
}

Status ExecSession::Resize(uint16_t rows, uint16_t cols) {
  if (!pty_) return InvalidArgument("resize: the process has no terminal");
  winsize ws{rows, cols, 0, 0};
  if (!stdout_.valid()) return OkStatus();
  if (ioctl(stdout_.get(), TIOCSWINSZ, &ws) != 0) return Error::FromErrno("resize the terminal");
  return OkStatus();
}

void ExecSession::SetExited(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    exit_ = ExitStatus{true, static_cast<uint32_t>(WTERMSIG(wait_status))};
  } else {
    exit_ = ExitStatus{false, static_cast<uint32_t>(WEXITSTATUS(wait_status))};
  }
  // Input nobody will read is dropped; the output still drains.
  pending_input_.clear();
  stdin_.Reset();
}

}  // namespace banger::agent
