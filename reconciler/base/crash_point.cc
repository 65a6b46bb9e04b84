#include "reconciler/base/crash_point.h"

#ifdef BANGER_CRASH_POINTS

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace banger {
namespace {

// 0: no crash asked for (unset, empty, not a positive number).
long CrashTarget() {
  const char* v = std::getenv("BANGER_CRASH_AT");
  if (!v || !*v) return 0;
  char* end = nullptr;
  long k = std::strtol(v, &end, 10);
  return *end == '\0' && k > 0 ? k : 0;
}

std::atomic<long> g_points{0};

}  // namespace

void CrashPoint(std::string_view where) {
  static const long target = CrashTarget();
  static const bool trace = std::getenv("BANGER_CRASH_TRACE") != nullptr;
  if (target == 0 && !trace) return;
  const long n = ++g_points;
  if (n != target && !trace) return;
  // One write(2): the line must be whole even when the next call kills.
  std::string line = "banger: crash point " + std::to_string(n) + ": " + std::string(where) + "\n";
  (void)!write(STDERR_FILENO, line.data(), line.size());
  if (n == target) kill(getpid(), SIGKILL);
}

}  // namespace banger

#endif  // BANGER_CRASH_POINTS
