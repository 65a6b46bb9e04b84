#include "reconciler/vmm/vmm_process.h"

#include <fcntl.h>
#include <signal.h>

#include <utility>

#include "reconciler/os/unique_fd.h"
#include "reconciler/vmm/console_logger.h"
#include "reconciler/os/detached_spawn.h"
#include "reconciler/vmm/driver.h"
#include "reconciler/os/process.h"

namespace banger::vmm {

Result<VmmProcess> VmmProcess::Start(const VmmSpawn& spawn) {
  return StartWith(spawn, [&spawn](int stdout_fd, int stderr_fd) {
    DetachedCommand command;
    command.argv = spawn.argv;
    command.env = spawn.env;
    command.stdout_fd = stdout_fd;
    command.stderr_fd = stderr_fd;
    command.inherit_fds = spawn.inherit_fds;
    return SpawnDetached(command);
  });
}

Result<VmmProcess> VmmProcess::StartWith(const VmmSpawn& spawn, const VmmStarter& starter) {
  BANGER_ASSIGN_OR_RETURN(ConsoleLogger logger,
                          StartConsoleLogger(spawn.console_log, spawn.console_log_cap, spawn.vm));
  VmmProcess process;
  process.logger_pid_ = logger.pid;
  process.logger_ticks_ = logger.start_ticks;
  process.console_log_ = spawn.console_log;
  process.stderr_log_ = spawn.stderr_log;

  UniqueFd err(open(spawn.stderr_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (!err.valid()) return Error::FromErrno("open " + Quote(spawn.stderr_log));

  auto pid = starter(logger.write_fd.get(), err.get());
  // Only the VMM may hold the pipe's write end: the logger then ends when
  // the VMM does (or now, when the VMM never started; the destructor of
  // `process` waits for that).
  logger.write_fd.Reset();
  err.Reset();
  if (!pid.ok()) return std::move(pid).error();
  process.pid_ = *pid;
  process.start_ticks_ = ProcessStartTicks(process.pid_);
  if (process.start_ticks_ == 0) process.start_ticks_ = UINT64_MAX;  // already gone
  return process;
}

VmmProcess::VmmProcess(VmmProcess&& other) noexcept { *this = std::move(other); }

VmmProcess& VmmProcess::operator=(VmmProcess&& other) noexcept {
  if (this != &other) {
    (void)Stop();
    pid_ = std::exchange(other.pid_, 0);
    start_ticks_ = std::exchange(other.start_ticks_, 0);
    logger_pid_ = std::exchange(other.logger_pid_, 0);
    logger_ticks_ = std::exchange(other.logger_ticks_, 0);
    console_log_ = std::move(other.console_log_);
    stderr_log_ = std::move(other.stderr_log_);
  }
  return *this;
}

VmmProcess::~VmmProcess() { (void)Stop(); }

bool VmmProcess::Alive() const { return pid_ > 0 && ProcessAlive(pid_, start_ticks_); }

std::string VmmProcess::DescribeExit() const {
  std::string why = ReadFileTail(stderr_log_, 800);
  if (why.empty()) why = ReadFileTail(console_log_, 800);
  return why.empty() ? "no output" : why;
}

Status VmmProcess::Stop() {
  Status result = OkStatus();
  if (pid_ > 0) {
    result = KillProcess(pid_, start_ticks_);
    pid_ = 0;
  }
  if (logger_pid_ > 0) {
    // The logger ends by itself once the VMM's end of the pipe is closed.
    if (!WaitProcessGone(logger_pid_, logger_ticks_, std::chrono::seconds(2))) {
      Status killed = KillProcess(logger_pid_, logger_ticks_);
      if (result.ok() && !killed.ok()) result = killed;
    }
    logger_pid_ = 0;
  }
  return result;
}

}  // namespace banger::vmm
