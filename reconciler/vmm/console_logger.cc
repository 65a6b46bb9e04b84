#include "reconciler/vmm/console_logger.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "reconciler/os/detached_spawn.h"
#include "reconciler/os/process_title.h"
#include "reconciler/vmm/driver.h"

namespace banger::vmm {
namespace {

constexpr int kLogFlags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
constexpr mode_t kLogMode = 0640;

int WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return errno;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return 0;
}

struct LoggerArgs {
  int pipe_fd;
  CappedLog* log;
  const char* title;
};

void LoggerMain(void* raw) {
  auto* args = static_cast<LoggerArgs*>(raw);
  SetProcessTitle(args->title, kConsoleLoggerComm);
  // The VMM going away is the only way this process should end; a hangup of
  // the terminal the CLI ran in must not cut the log short.
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  PumpToLog(args->pipe_fd, *args->log);
  _exit(0);
}

}  // namespace

Result<CappedLog> CappedLog::Open(const std::string& path, uint64_t cap) {
  if (cap < kMinConsoleLogCap) {
    return InvalidArgument("console log " + Quote(path) + ": cap " + std::to_string(cap) +
                           " is below the minimum of " + std::to_string(kMinConsoleLogCap) +
                           " bytes");
  }
  const std::string rotated = path + ".1";
  if (rotated.size() >= PATH_MAX) return InvalidArgument("console log " + Quote(path) + ": path too long");
  CappedLog log;
  std::memcpy(log.path_, path.c_str(), path.size() + 1);
  std::memcpy(log.rotated_, rotated.c_str(), rotated.size() + 1);
  log.file_limit_ = cap / 2;
  log.fd_.Reset(open(path.c_str(), kLogFlags, kLogMode));
  if (!log.fd_.valid()) return Error::FromErrno("open console log " + Quote(path));
  struct stat st;
  if (fstat(log.fd_.get(), &st) != 0) return Error::FromErrno("stat console log " + Quote(path));
  log.size_ = static_cast<uint64_t>(st.st_size);
  return log;
}

int CappedLog::Rotate() {
  if (rename(path_, rotated_) != 0) return errno;
  int fd = open(path_, kLogFlags | O_TRUNC, kLogMode);
  if (fd < 0) return errno;
  fd_.Reset(fd);
  size_ = 0;
  return 0;
}

int CappedLog::Write(const char* data, size_t n) {
  // Fill the current file up to its limit, then rotate: output is split at
  // byte granularity so both files stay within file_limit_.
  while (n > 0) {
    if (size_ >= file_limit_) {
      if (int e = Rotate()) return e;
    }
    size_t room = static_cast<size_t>(file_limit_ - size_);
    size_t chunk = n < room ? n : room;
    if (int e = WriteAll(fd_.get(), data, chunk)) return e;
    size_ += chunk;
    data += chunk;
    n -= chunk;
  }
  return 0;
}

void PumpToLog(int in_fd, CappedLog& log) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(in_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    // A full disk loses console output but must not stop the pipe from
    // draining, or the VMM would block on its serial port.
    (void)log.Write(buf, static_cast<size_t>(n));
  }
}

std::string ConsoleLoggerTitle(const std::string& vm) {
  return "banger: console logger, vm " + vm;
}

Result<ConsoleLogger> StartConsoleLogger(const std::string& path, uint64_t cap,
                                         const std::string& vm) {
  BANGER_ASSIGN_OR_RETURN(CappedLog log, CappedLog::Open(path, cap));
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Error::FromErrno("console log pipe");
  UniqueFd read_fd(fds[0]);
  ConsoleLogger logger;
  logger.write_fd.Reset(fds[1]);
  // The forked child gets its own copies of `args` and `log`; the parent's
  // copies are released when this function returns.
  const std::string title = ConsoleLoggerTitle(vm);
  LoggerArgs args{read_fd.get(), &log, title.c_str()};
  auto pid = ForkDetached({read_fd.get(), log.fd()}, &LoggerMain, &args);
  if (!pid.ok()) return std::move(pid).error().WithContext("start console logger for " + Quote(path));
  logger.pid = *pid;
  logger.start_ticks = ProcessStartTicks(*pid);
  return logger;
}

}  // namespace banger::vmm
