#include "reconciler/base/crash_point.h"

#ifdef BANGER_CRASH_POINTS

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace banger {
namespace {

// BANGER_CRASH_AT: a positive number k (the k-th point), else any other
// text (the first point whose line contains it); unset or empty: none.
struct CrashTarget {
  long k = 0;
  std::string text;
  bool any() const { return k > 0 || !text.empty(); }
};

CrashTarget ReadCrashTarget() {
  CrashTarget t;
  const char* v = std::getenv("BANGER_CRASH_AT");
  if (!v || !*v) return t;
  char* end = nullptr;
  long k = std::strtol(v, &end, 10);
  if (*end == '\0' && k > 0) {
    t.k = k;
  } else {
    t.text = v;
  }
  return t;
}

std::atomic<long> g_points{0};

}  // namespace

void CrashPoint(std::string_view where) {
  static const CrashTarget target = ReadCrashTarget();
  static const bool trace = std::getenv("BANGER_CRASH_TRACE") != nullptr;
  if (!target.any() && !trace) return;
  const long n = ++g_points;
  const bool crash = n == target.k ||
                     (!target.text.empty() && where.find(target.text) != std::string_view::npos);
  if (!crash && !trace) return;
  // One write(2): the line must be whole even when the next call kills.
  std::string line = "banger: crash point " + std::to_string(n) + ": " + std::string(where) + "\n";
  (void)!write(STDERR_FILENO, line.data(), line.size());
  if (crash) kill(getpid(), SIGKILL);
}

}  // namespace banger

#endif  // BANGER_CRASH_POINTS
