// Cancellation through the real signal handlers and the real runner:
// SIGTERM/SIGINT stop a running child (its whole process group) and turn
// into a kCancelled error instead of ending the process.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "reconciler/os/cancel.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

using namespace banger;
using Clock = std::chrono::steady_clock;

namespace {

// Running, as opposed to gone or a zombie waiting for init to reap it
// (the grandchild is reparented once its shell dies).
bool Alive(pid_t pid) {
  auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return false;
  size_t paren = stat->rfind(')');
  return paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] != 'Z';
}

// Reads the PIDs the script wrote (one per line) once both are there.
std::vector<pid_t> WaitForPids(const std::string& file, size_t want) {
  for (int i = 0; i < 500; ++i) {
    auto text = ReadFile(file);
    if (text.ok()) {
      std::vector<pid_t> pids;
      size_t at = 0;
      while (at < text->size()) {
        size_t nl = text->find('\n', at);
        if (nl == std::string::npos) break;
        pids.push_back(static_cast<pid_t>(std::stol(text->substr(at, nl - at))));
        at = nl + 1;
      }
      if (pids.size() >= want) return pids;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {};
}

}  // namespace

TEST_CASE("a signal stops a running program and its children, then fails as cancelled",
          "[cancel]") {
  REQUIRE(InstallCancelHandlers().ok());
  ClearCancelForTesting();
  auto dir = testing::ScratchDir();
  const std::string pids = dir.path() + "/pids";
  // The shell starts a grandchild in the background, then waits: both must
  // be gone afterwards.
  ExecRequest req;
  req.argv = {"sh", "-c", "sleep 60 & echo $! >> " + pids + "; echo $$ >> " + pids + "; wait"};
  req.timeout = std::chrono::seconds(60);
  for (int sig : {SIGTERM, SIGINT}) {
    INFO(sig);
    (void)RemoveTree(pids);
    std::thread sender([&] {
      WaitForPids(pids, 2);
      kill(getpid(), sig);  // a real delivery to the real handler
    });
    const auto start = Clock::now();
    auto r = SystemRunner().Run(req);
    sender.join();
    CHECK(Clock::now() - start < std::chrono::seconds(10));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kCancelled);
    CHECK_THAT(r.error().message(),
               Catch::Contains(sig == SIGTERM ? "interrupted by SIGTERM" : "interrupted by SIGINT"));
    CHECK(CancelRequested());
    CHECK(CancelSignal() == sig);
    auto started = WaitForPids(pids, 2);
    REQUIRE(started.size() == 2);
    for (pid_t pid : started) CHECK_FALSE(Alive(pid));
    // Nothing new starts while cancelled.
    auto refused = SystemRunner().Run(ExecRequest{.argv = {"true"}});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code() == Code::kCancelled);
    ClearCancelForTesting();
  }
  // Uncancelled again: programs run.
  auto ok = SystemRunner().Run(ExecRequest{.argv = {"true"}});
  REQUIRE(ok.ok());
  CHECK(ok->exit_code == 0);
}

TEST_CASE("a program writing to a file still times out", "[cancel]") {
  auto dir = testing::ScratchDir();
  ExecRequest req;
  req.argv = {"sleep", "30"};
  req.output_file = dir.path() + "/log";
  req.timeout = std::chrono::milliseconds(300);
  const auto start = Clock::now();
  auto r = SystemRunner().Run(req);
  REQUIRE(r.ok());
  CHECK(r->timed_out);
  CHECK(Clock::now() - start < std::chrono::seconds(10));
}
