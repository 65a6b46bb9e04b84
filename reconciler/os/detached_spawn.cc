#include "reconciler/os/detached_spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "reconciler/os/unique_fd.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace banger {
namespace {

// Everything below until the parent-side functions runs in a forked child:
// only async-signal-safe calls, no allocation.

void ResetSignals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, SIG_DFL);
  }
}

// Applies close (or close-on-exec) to [first, last], falling back to a loop
// on kernels without close_range.
void CloseRange(unsigned first, unsigned last, bool cloexec_only) {
  if (first > last) return;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, first, last, cloexec_only ? CLOSE_RANGE_CLOEXEC : 0) == 0)
    return;
#endif
  struct rlimit rl;
  unsigned limit = 65536;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur < limit)
    limit = static_cast<unsigned>(rl.rlim_cur);
  if (last >= limit) last = limit - 1;
  for (unsigned fd = first; fd <= last; ++fd) {
    if (cloexec_only) fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    else close(static_cast<int>(fd));
  }
}

// Closes (or marks close-on-exec) every descriptor >= 3 except `keep`,
// which must be sorted.
void CloseAllExcept(const int* keep, size_t n, bool cloexec_only) {
  unsigned next = 3;
  for (size_t i = 0; i < n; ++i) {
    if (keep[i] < static_cast<int>(next)) continue;
    CloseRange(next, static_cast<unsigned>(keep[i]) - 1, cloexec_only);
    next = static_cast<unsigned>(keep[i]) + 1;
  }
  CloseRange(next, ~0U, cloexec_only);
}

// Moves fd to a number >= 3 so dup2 onto 0-2 cannot clobber it.
int Lift(int fd) {
  if (fd < 0 || fd > 2) return fd;
  return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

void WriteAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}

struct ChildSetup {
  int devnull;
  int stdout_fd;  // -1: devnull
  int stderr_fd;
  const int* keep;  // sorted
  size_t keep_count;
  bool exec;        // keep the error pipe open until exec
};

void SetUpChild(const ChildSetup& s) {
  ResetSignals();
  int devnull = Lift(s.devnull);
  int out = Lift(s.stdout_fd >= 0 ? s.stdout_fd : s.devnull);
  int err = Lift(s.stderr_fd >= 0 ? s.stderr_fd : s.devnull);
  dup2(devnull, 0);
  dup2(out, 1);
  dup2(err, 2);
  CloseAllExcept(s.keep, s.keep_count, s.exec);
  for (size_t i = 0; i < s.keep_count; ++i) {
    int flags = fcntl(s.keep[i], F_GETFD);
    if (flags >= 0) fcntl(s.keep[i], F_SETFD, flags & ~FD_CLOEXEC);
  }
  // The VMM must not pin the CLI's working directory (it may be a mount).
  (void)!chdir("/");
}

int ReadFull(int fd, void* data, size_t n) {
  char* p = static_cast<char*>(data);
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<int>(got);
}

// The double fork shared by both entry points. `run` is called in the
// grandchild after setup and never returns.
template <typename Run>
Result<pid_t> DoubleFork(const ChildSetup& setup, Run run) {
  int pid_pipe[2];
  if (pipe2(pid_pipe, O_CLOEXEC) != 0) return Error::FromErrno("pipe");
  UniqueFd pid_r(pid_pipe[0]), pid_w(pid_pipe[1]);

  pid_t child = fork();
  if (child < 0) return Error::FromErrno("fork");
  if (child == 0) {
    setsid();
    pid_t grandchild = fork();
    if (grandchild < 0) grandchild = -errno;
    if (grandchild != 0) {
      WriteAll(pid_w.get(), &grandchild, sizeof grandchild);
      _exit(0);
    }
    SetUpChild(setup);
    run();
    _exit(127);
  }
  pid_w.Reset();
  pid_t grandchild = 0;
  int got = ReadFull(pid_r.get(), &grandchild, sizeof grandchild);
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (got != sizeof grandchild) return Internal("detach: lost the child's pid");
  if (grandchild < 0) return Error::FromErrno("fork", -grandchild);
  return grandchild;
}

std::vector<int> SortedUnique(std::vector<int> fds) {
  std::sort(fds.begin(), fds.end());
  fds.erase(std::unique(fds.begin(), fds.end()), fds.end());
  return fds;
}

}  // namespace

Result<pid_t> SpawnDetached(const DetachedCommand& command) {
  if (command.argv.empty() || command.argv[0].empty() || command.argv[0][0] != '/')
    return InvalidArgument("spawn: argv[0] must be an absolute path");
  for (int fd : command.inherit_fds) {
    if (fd < 3) return InvalidArgument("spawn: cannot pass descriptor " + std::to_string(fd));
  }
  UniqueFd devnull(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull.valid()) return Error::FromErrno("open '/dev/null'");
  // Reports an exec failure; closed by a successful exec.
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) return Error::FromErrno("pipe");
  UniqueFd exec_r(exec_pipe[0]), exec_w(exec_pipe[1]);

  std::vector<int> keep = SortedUnique(command.inherit_fds);
  std::vector<char*> argv_c, env_c;
  for (const auto& a : command.argv) argv_c.push_back(const_cast<char*>(a.c_str()));
  argv_c.push_back(nullptr);
  for (const auto& e : command.env) env_c.push_back(const_cast<char*>(e.c_str()));
  env_c.push_back(nullptr);

  ChildSetup setup{devnull.get(), command.stdout_fd, command.stderr_fd,
                   keep.data(), keep.size(), /*exec=*/true};
  const int err_fd = exec_w.get();
  auto pid = DoubleFork(setup, [&] {
    execve(argv_c[0], argv_c.data(), env_c.data());
    int e = errno;
    WriteAll(err_fd, &e, sizeof e);
  });
  if (!pid.ok()) return std::move(pid).error().WithContext("start " + Quote(command.argv[0]));
  exec_w.Reset();
  int exec_errno = 0;
  if (ReadFull(exec_r.get(), &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
    // The grandchild has exited with 127 by now; it is not our child, so
    // init (or the subreaper) reaps it.
    return Error::FromErrno("exec " + Quote(command.argv[0]), exec_errno);
  }
  return *pid;
}

Result<pid_t> ForkDetached(const std::vector<int>& keep_fds, void (*body)(void*), void* arg) {
  UniqueFd devnull(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull.valid()) return Error::FromErrno("open '/dev/null'");
  // Closed by the child once it has shed the caller's descriptors, so on
  // return the child provably holds nothing but `keep_fds`.
  int ready_pipe[2];
  if (pipe2(ready_pipe, O_CLOEXEC) != 0) return Error::FromErrno("pipe");
  UniqueFd ready_r(ready_pipe[0]), ready_w(ready_pipe[1]);
  std::vector<int> with_ready = keep_fds;
  with_ready.push_back(ready_w.get());
  std::vector<int> keep = SortedUnique(with_ready);
  ChildSetup setup{devnull.get(), -1, -1, keep.data(), keep.size(), /*exec=*/false};
  const int ready_fd = ready_w.get();
  auto pid = DoubleFork(setup, [&] {
    close(ready_fd);
    body(arg);
  });
  ready_w.Reset();
  if (!pid.ok()) return pid;
  char byte;
  while (read(ready_r.get(), &byte, 1) < 0 && errno == EINTR) {
  }
  return pid;
}

}  // namespace banger
