#include "reconciler/os/process_title.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cstring>
#include <new>

namespace banger {
namespace {

char* g_area = nullptr;     // argv[0]
char* g_arg_end = nullptr;  // one past argv's last NUL (the kernel's arg_end)
char* g_end = nullptr;      // one past the last string of the area
// The moved environment lives as long as the process. Both allocations are
// kept here: once setenv() replaces `environ` with an array of its own, this
// is the only reference to the array, and setenv()/unsetenv() on a variable
// that was there at start overwrite or drop its slot in place, so the strings
// are reachable only through their block (a leak checker reported the string
// setenv("HOME") replaced when each was its own strdup).
char** g_moved_environ = nullptr;
char* g_moved_strings = nullptr;

}  // namespace

void InitProcessTitle(int argc, char** argv) {
  if (g_area != nullptr || argc <= 0 || argv == nullptr || argv[0] == nullptr) return;
  // Only strings that follow each other without a gap belong to the area:
  // anything else is memory the kernel does not report as the command line.
  char* end = argv[0];
  for (int i = 0; i < argc && argv[i] == end; ++i) end = argv[i] + std::strlen(argv[i]) + 1;
  char* arg_end = end;
  size_t env_count = 0;
  while (environ != nullptr && environ[env_count] != nullptr) ++env_count;
  // The environment moves to the heap whether or not its strings join the
  // area, so the area is never what getenv reads. A failed allocation keeps
  // the environment in place and the title to argv's own bytes.
  size_t bytes = 0;
  for (size_t i = 0; i < env_count; ++i) bytes += std::strlen(environ[i]) + 1;
  char** moved = new (std::nothrow) char*[env_count + 1];
  char* strings = new (std::nothrow) char[bytes + 1];
  if (moved != nullptr && strings != nullptr) {
    char* next = strings;
    for (size_t i = 0; i < env_count; ++i) {
      const size_t n = std::strlen(environ[i]) + 1;
      std::memcpy(next, environ[i], n);
      moved[i] = next;
      next += n;
    }
    moved[env_count] = nullptr;
    for (size_t i = 0; i < env_count && environ[i] == end; ++i)
      end = environ[i] + std::strlen(environ[i]) + 1;
    environ = moved;
    g_moved_environ = moved;
    g_moved_strings = strings;
  } else {
    delete[] moved;
    delete[] strings;
  }
  g_area = argv[0];
  g_arg_end = arg_end;
  g_end = end;
}

unsigned long ProcessTitleCapacity() {
  return g_area == nullptr ? 0 : static_cast<unsigned long>(g_end - g_area - 1);
}

void SetProcessTitle(const char* title, const char* comm) {
  char name[16] = {};
  std::strncpy(name, comm, sizeof name - 1);
  (void)prctl(PR_SET_NAME, name, 0, 0, 0);
  if (g_area == nullptr) return;
  const size_t capacity = static_cast<size_t>(g_end - g_area - 1);
  size_t n = std::strlen(title);
  if (n > capacity) n = capacity;
  std::memcpy(g_area, title, n);
  std::memset(g_area + n, 0, static_cast<size_t>(g_end - g_area) - n);
  // The kernel reports the whole argv area, padding NULs included, unless
  // argv's last byte is not NUL: then it reads a setproctitle-style string
  // up to its first NUL. A short title sets that byte so /proc/PID/cmdline
  // is the title alone, not the title followed by a run of NULs that `ps`
  // turns into trailing spaces.
  if (g_area + n + 1 < g_arg_end) g_arg_end[-1] = ' ';
}

}  // namespace banger
