// The BANGER_CRASH_AT hook: the k-th point kills the process with SIGKILL
// after naming itself on stderr; tracing lists every point and goes on.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "reconciler/base/crash_point.h"

namespace {

struct Run {
  int status = 0;
  std::string err;
};

// Runs three points in a child with `var`=`value` set; returns how it ended
// and what it wrote to stderr. A child: the hook reads its environment once
// per process, and a kill must not take the test runner with it.
Run ThreePointsWith(const char* var, const char* value) {
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    setenv(var, value, 1);
    banger::CrashPoint("first");
    banger::CrashPoint("second");
    banger::CrashPoint("third");
    _exit(0);
  }
  close(fds[1]);
  Run run;
  char buf[256];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) run.err.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  REQUIRE(waitpid(pid, &run.status, 0) == pid);
  return run;
}

}  // namespace

#ifdef BANGER_CRASH_POINTS
TEST_CASE("BANGER_CRASH_AT=k kills the process at the k-th crash point") {
  Run at2 = ThreePointsWith("BANGER_CRASH_AT", "2");
  REQUIRE(WIFSIGNALED(at2.status));
  CHECK(WTERMSIG(at2.status) == SIGKILL);
  CHECK(at2.err == "banger: crash point 2: second\n");

  Run beyond = ThreePointsWith("BANGER_CRASH_AT", "4");
  REQUIRE(WIFEXITED(beyond.status));
  CHECK(beyond.err.empty());

  Run empty = ThreePointsWith("BANGER_CRASH_AT", "");
  CHECK(WIFEXITED(empty.status));
}

TEST_CASE("BANGER_CRASH_AT=text kills at the first crash point whose line contains it") {
  Run at = ThreePointsWith("BANGER_CRASH_AT", "ir");
  REQUIRE(WIFSIGNALED(at.status));
  CHECK(WTERMSIG(at.status) == SIGKILL);
  CHECK(at.err == "banger: crash point 1: first\n");
  CHECK(ThreePointsWith("BANGER_CRASH_AT", "hird").err == "banger: crash point 3: third\n");
  // Not a positive number: text, matching none of these lines.
  for (const char* text : {"0", "-1", "2x"}) {
    Run r = ThreePointsWith("BANGER_CRASH_AT", text);
    CHECK(WIFEXITED(r.status));
    CHECK(r.err.empty());
  }
}

TEST_CASE("BANGER_CRASH_TRACE lists every crash point and goes on") {
  Run trace = ThreePointsWith("BANGER_CRASH_TRACE", "1");
  REQUIRE(WIFEXITED(trace.status));
  CHECK(trace.err ==
        "banger: crash point 1: first\nbanger: crash point 2: second\n"
        "banger: crash point 3: third\n");
}
#else
TEST_CASE("without BANGER_CRASH_POINTS the hook does nothing") {
  Run r = ThreePointsWith("BANGER_CRASH_AT", "1");
  REQUIRE(WIFEXITED(r.status));
  CHECK(r.err.empty());
}
#endif
