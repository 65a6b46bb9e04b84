#include "reconciler/os/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "reconciler/os/unique_fd.h"

namespace banger {
namespace {

using Clock = std::chrono::steady_clock;

struct StatFields {
  char state = 0;
  uint64_t start_ticks = 0;
};

// Parses /proc/<pid>/stat. The command name (field 2) may contain spaces and
// parentheses, so fields are counted from the last ')'.
bool ReadStat(pid_t pid, StatFields* out) {
  if (pid <= 0) return false;
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  char buf[1024];
  ssize_t n;
  do {
    n = read(fd.get(), buf, sizeof buf - 1);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  buf[n] = '\0';
  std::string text(buf, static_cast<size_t>(n));
  size_t close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return false;
  std::vector<std::string> fields;  // fields[0] is field 3 (state)
  size_t pos = close_paren + 1;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos) fields.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  if (fields.size() < 20) return false;
  out->state = fields[0].empty() ? 0 : fields[0][0];
  out->start_ticks = std::strtoull(fields[19].c_str(), nullptr, 10);
  return true;
}

// A pidfd pins the identity of a process: once opened and checked against the
// start ticks, signals sent through it cannot reach a recycled PID.
UniqueFd OpenPidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
#else
  (void)pid;
  return UniqueFd();
#endif
}

bool Matches(const StatFields& st, uint64_t start_ticks) {
  if (st.state == 'Z' || st.state == 'X') return false;
  return start_ticks == 0 || st.start_ticks == start_ticks;
}

}  // namespace

uint64_t ProcessStartTicks(pid_t pid) {
  StatFields st;
  if (!ReadStat(pid, &st) || st.state == 'Z' || st.state == 'X') return 0;
  return st.start_ticks;
}

bool ProcessAlive(pid_t pid, uint64_t start_ticks) {
  StatFields st;
  return ReadStat(pid, &st) && Matches(st, start_ticks);
}

bool WaitProcessGone(pid_t pid, uint64_t start_ticks,
                     std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (ProcessAlive(pid, start_ticks)) {
    auto now = Clock::now();
    if (now >= deadline) return false;
    // /proc is polled rather than waited on: the VMM is not our child, and
    // the start ticks tell a recycled PID apart.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(20)));
  }
  return true;
}

Status SignalProcess(pid_t pid, uint64_t start_ticks, int signal) {
  if (pid <= 0) return InvalidArgument("signal process: invalid pid " + std::to_string(pid));
  UniqueFd pidfd = OpenPidfd(pid);
  if (!pidfd.valid() && errno == ESRCH) return OkStatus();
  // Checked after the pidfd is open, so the identity cannot change between
  // the check and the signal.
  if (!ProcessAlive(pid, start_ticks)) return OkStatus();
  int rc;
#ifdef SYS_pidfd_send_signal
  if (pidfd.valid()) {
    rc = static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0));
  } else {
    rc = kill(pid, signal);
  }
#else
  rc = kill(pid, signal);
#endif
  if (rc != 0 && errno != ESRCH) {
    return Error::FromErrno("signal " + std::to_string(signal) + " to process " +
                            Quote(std::to_string(pid)));
  }
  return OkStatus();
}

Status KillProcess(pid_t pid, uint64_t start_ticks, std::chrono::milliseconds timeout) {
  BANGER_RETURN_IF_ERROR(SignalProcess(pid, start_ticks, SIGKILL));
  if (!WaitProcessGone(pid, start_ticks, timeout)) {
    return Error(Code::kTimeout, "kill process " + Quote(std::to_string(pid)) +
                                     ": still running " +
                                     std::to_string(timeout.count()) + " ms after SIGKILL");
  }
  return OkStatus();
}

std::string ReadFileTail(const std::string& path, size_t max_bytes) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return "";
  off_t size = lseek(fd.get(), 0, SEEK_END);
  if (size <= 0) return "";
  off_t start = size > static_cast<off_t>(max_bytes) ? size - static_cast<off_t>(max_bytes) : 0;
  std::string out(static_cast<size_t>(size - start), '\0');
  ssize_t n = pread(fd.get(), out.data(), out.size(), start);
  if (n <= 0) return "";
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' '))
    out.pop_back();
  if (start > 0) out = "..." + out;
  return out;
}

}  // namespace banger
