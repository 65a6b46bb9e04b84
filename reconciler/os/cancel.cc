#include "reconciler/os/cancel.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>

namespace banger {
namespace {

// Written by the handler, read anywhere: lock-free atomics are
// async-signal-safe.
std::atomic<int> g_signal{0};
std::atomic<int> g_wake_read{-1};
std::atomic<int> g_wake_write{-1};

void OnSignal(int sig) {
  const int saved_errno = errno;
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, sig)) {
    // Second request: the default action, so a stuck build still stops.
    signal(sig, SIG_DFL);
    raise(sig);
  } else {
    const int fd = g_wake_write.load();
    if (fd >= 0) {
      const char byte = 1;
      (void)!write(fd, &byte, 1);
    }
  }
  errno = saved_errno;
}

}  // namespace

Status InstallCancelHandlers() {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (g_wake_read.load() >= 0) return OkStatus();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return Error::FromErrno("create cancel pipe");
  g_wake_write.store(fds[1]);
  g_wake_read.store(fds[0]);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  // No SA_RESTART: blocking calls return EINTR so loops look at the flag.
  for (int sig : {SIGINT, SIGTERM}) {
    if (sigaction(sig, &sa, nullptr) != 0) {
      return Error::FromErrno("install handler for signal " + std::to_string(sig));
    }
  }
  return OkStatus();
}

bool CancelRequested() { return g_signal.load() != 0; }

int CancelSignal() { return g_signal.load(); }

int CancelWakeFd() { return g_wake_read.load(); }

Status CheckCancelled(std::string_view what) {
  const int sig = g_signal.load();
  if (sig == 0) return OkStatus();
  const char* name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
  return Error(Code::kCancelled, std::string(what) + ": interrupted by " + name);
}

void RequestCancelForTesting(int signal) {
  g_signal.store(signal);
  const int fd = g_wake_write.load();
  if (fd >= 0) {
    const char byte = 1;
    (void)!write(fd, &byte, 1);
  }
}

void ClearCancelForTesting() { ConsumeCancel(); }

void ConsumeCancel() {
  g_signal.store(0);
  const int fd = g_wake_read.load();
  if (fd >= 0) {
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
  }
}

}  // namespace banger
