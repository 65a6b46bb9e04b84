// The size-capped console log of a VM.
//
// A VMM writes its serial console to a pipe; a detached logger process reads
// the pipe and appends to console.log. When console.log reaches half the cap
// it is renamed to console.log.1 (replacing the previous one) and a fresh
// console.log is started, so the two files together never exceed the cap and
// the most recent output is always kept. The logger exits when the last
// writer (the VMM) closes the pipe.
//
// The logger is a forked child that never execs, so it needs no entry point
// in the CLI's main. CappedLog therefore uses only system calls on
// preallocated buffers: it is safe after fork() in a threaded process. It
// retitles itself (`banger: console logger, vm web`, short name
// banger-console) so `ps` does not show it as the CLI command that forked it.
#pragma once

#include <limits.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::vmm {

// The smallest cap accepted: below it a single pipe read could exceed a file.
inline constexpr uint64_t kMinConsoleLogCap = 8192;

class CappedLog {
 public:
  // Opens (creating, appending to) `path`. The cap bounds the combined size
  // of `path` and `path`.1.
  static Result<CappedLog> Open(const std::string& path, uint64_t cap);

  CappedLog(CappedLog&&) noexcept = default;
  CappedLog& operator=(CappedLog&&) noexcept = default;

  // Appends, rotating as needed. Returns 0 or an errno. Async-signal-safe.
  int Write(const char* data, size_t n);

  // The file currently written (for the logger's keep list).
  int fd() const { return fd_.get(); }
  uint64_t file_limit() const { return file_limit_; }

 private:
  CappedLog() = default;
  int Rotate();

  UniqueFd fd_;
  uint64_t size_ = 0;        // bytes in the current file
  uint64_t file_limit_ = 0;  // cap / 2
  char path_[PATH_MAX] = {};
  char rotated_[PATH_MAX] = {};
};

// Reads `in_fd` until EOF, writing everything to `log`. Async-signal-safe.
void PumpToLog(int in_fd, CappedLog& log);

struct ConsoleLogger {
  UniqueFd write_fd;  // give to the VMM as stdout, then close
  pid_t pid = 0;      // the detached logger
  uint64_t start_ticks = 0;
};

// The logger's process title (/proc/PID/cmdline) and short name (comm).
std::string ConsoleLoggerTitle(const std::string& vm);
inline constexpr const char* kConsoleLoggerComm = "banger-console";

// Opens the log (errors surface here, in the caller) and starts the
// detached logger for VM `vm` reading from the returned pipe.
Result<ConsoleLogger> StartConsoleLogger(const std::string& path, uint64_t cap,
                                         const std::string& vm);

}  // namespace banger::vmm
