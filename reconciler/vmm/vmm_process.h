// A detached VMM process together with its console logger, owned until the
// launch succeeds.
//
// Both drivers start their VMM the same way: console (stdout) through the
// capped logger, the VMM's own diagnostics (stderr) to a small file next to
// it, everything detached. Until Release() the owner kills the VMM and makes
// sure the logger is gone too, so a failed launch leaves nothing running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::vmm {

struct VmmSpawn {
  std::string vm;                 // VM name, for the logger's process title
  std::vector<std::string> argv;  // argv[0] absolute
  std::vector<std::string> env;
  std::string console_log;        // stdout, through the capped logger
  uint64_t console_log_cap = 0;
  std::string stderr_log;         // stderr, truncated at each start
  std::vector<int> inherit_fds;   // tap fds named on the command line
};

// Starts a VMM whose stdout and stderr are the given descriptors and
// returns its PID (the VMM is detached, not a child).
using VmmStarter = std::function<Result<pid_t>(int stdout_fd, int stderr_fd)>;

class VmmProcess {
 public:
  // Starts spawn.argv detached.
  static Result<VmmProcess> Start(const VmmSpawn& spawn);
  // Starts the VMM through `starter` (the root helper, for a jailed
  // Firecracker), with the same console logger and stderr file as Start.
  static Result<VmmProcess> StartWith(const VmmSpawn& spawn, const VmmStarter& starter);

  VmmProcess(VmmProcess&& other) noexcept;
  VmmProcess& operator=(VmmProcess&& other) noexcept;
  VmmProcess(const VmmProcess&) = delete;
  VmmProcess& operator=(const VmmProcess&) = delete;
  ~VmmProcess();

  pid_t pid() const { return pid_; }
  uint64_t start_ticks() const { return start_ticks_; }
  bool Alive() const;

  // Why the VMM is gone: the tail of its stderr, else of its console.
  std::string DescribeExit() const;

  // Kills the VMM and waits for it and the logger to be gone.
  Status Stop();

  // The VMM keeps running on its own; the owner forgets it.
  void Release() { pid_ = 0; logger_pid_ = 0; }

 private:
  VmmProcess() = default;

  pid_t pid_ = 0;
  uint64_t start_ticks_ = 0;
  pid_t logger_pid_ = 0;
  uint64_t logger_ticks_ = 0;
  std::string console_log_;
  std::string stderr_log_;
};

// Polls `ready` every 20 ms until it succeeds, the process dies or the
// timeout passes. Returns the last readiness error on timeout.
template <typename ReadyFn>
Status WaitUntilReady(const VmmProcess& process, std::chrono::milliseconds timeout,
                      ReadyFn ready) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Status last = OkStatus();
  for (;;) {
    if (!process.Alive()) {
      return Error(Code::kUnavailable, "exited during start: " + process.DescribeExit());
    }
    last = ready();
    if (last.ok()) return last;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error(Code::kTimeout, "not ready after " + std::to_string(timeout.count()) +
                                       " ms: " + last.error().message());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace banger::vmm
