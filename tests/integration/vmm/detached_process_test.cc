// Detached processes and the console logger against the real OS: what they
// inherit, that they outlive their parent's bookkeeping, and that they end.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/process_title.h"
#include "reconciler/os/unique_fd.h"
#include "reconciler/vmm/console_logger.h"
#include "reconciler/os/detached_spawn.h"
#include "reconciler/vmm/driver.h"
#include "reconciler/os/process.h"
#include "reconciler/vmm/vmm_process.h"
#include "tests/integration/vmm/vmm_test_support.h"
#include "tests/support/test_env.h"

namespace banger::vmm {
namespace {

using namespace std::chrono_literals;

std::string FdTarget(pid_t pid, int fd) {
  char buf[256] = {};
  std::string link = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

TEST_CASE("detached spawn: only stdio and the named fd are inherited") {
  testing::AdoptDetachedProcesses();
  // A descriptor some library opened without O_CLOEXEC must not leak.
  UniqueFd leaky(open("/dev/zero", O_RDONLY));
  REQUIRE(leaky.valid());
  int p[2];
  REQUIRE(pipe2(p, O_CLOEXEC) == 0);
  UniqueFd keep_r(p[0]), keep_w(p[1]);

  DetachedCommand cmd;
  cmd.argv = {FindProgram("sleep"), "30"};
  cmd.env = DefaultEnvironment();
  cmd.inherit_fds = {keep_r.get()};
  auto pid = SpawnDetached(cmd);
  REQUIRE(pid.ok());
  uint64_t ticks = ProcessStartTicks(*pid);
  REQUIRE(ticks != 0);
  // Right after exec the dynamic loader briefly holds the libraries it
  // maps; what counts is the steady state, which a loaded host can delay
  // past a second.
  const std::vector<int> want = {0, 1, 2, keep_r.get()};
  for (int i = 0; i < 500 && testing::OpenFds(*pid) != want; ++i)
    std::this_thread::sleep_for(10ms);
  std::string held;
  for (int fd : testing::OpenFds(*pid)) held += " " + std::to_string(fd) + "->" + FdTarget(*pid, fd);
  INFO("the child holds" << held);
  CHECK(testing::OpenFds(*pid) == want);
  CHECK(FdTarget(*pid, 0) == "/dev/null");
  CHECK(FdTarget(*pid, 1) == "/dev/null");
  CHECK(getsid(*pid) != getsid(0));
  CHECK(getsid(*pid) != *pid);  // not a session leader: cannot gain a tty

  CHECK_FALSE(ProcessAlive(*pid, ticks + 1));  // a recycled PID is not ours
  CHECK(SignalProcess(*pid, ticks + 1, SIGKILL).ok());
  CHECK(ProcessAlive(*pid, ticks));
  REQUIRE(KillProcess(*pid, ticks).ok());
  CHECK_FALSE(ProcessAlive(*pid, ticks));
  CHECK(testing::LeftoverChildren().empty());
}

TEST_CASE("detached spawn: an exec failure is an error and leaves nothing") {
  testing::AdoptDetachedProcesses();
  DetachedCommand cmd;
  cmd.argv = {"/nonexistent/vmm"};
  cmd.env = DefaultEnvironment();
  auto pid = SpawnDetached(cmd);
  REQUIRE_FALSE(pid.ok());
  CHECK(pid.error().message() == "exec '/nonexistent/vmm': No such file or directory");
  cmd.argv = {"relative"};
  CHECK_FALSE(SpawnDetached(cmd).ok());
  CHECK(testing::LeftoverChildren().empty());
}

TEST_CASE("console logger: holds none of the caller's fds and ends with its writer") {
  testing::AdoptDetachedProcesses();
  TempDir dir = testing::ScratchDir("banger-vmm-");
  UniqueFd leaky(open("/dev/zero", O_RDONLY));
  const std::string path = JoinPath(dir.path(), "console.log");
  auto logger = StartConsoleLogger(path, 8192, "t");
  REQUIRE(logger.ok());
  REQUIRE(logger->pid > 0);
  std::vector<int> fds = testing::OpenFds(logger->pid);
  REQUIRE(fds.size() == 5);  // stdio, the pipe, the log
  std::vector<std::string> targets;
  for (int fd : fds) targets.push_back(FdTarget(logger->pid, fd));
  CHECK(targets[0] == "/dev/null");
  CHECK(targets[1] == "/dev/null");
  CHECK(targets[2] == "/dev/null");
  CHECK(((targets[3].rfind("pipe:", 0) == 0 && targets[4] == path) ||
         (targets[4].rfind("pipe:", 0) == 0 && targets[3] == path)));

  std::string line(100, 'x');
  line.back() = '\n';
  for (int i = 0; i < 200; ++i) {
    REQUIRE(write(logger->write_fd.get(), line.data(), line.size()) ==
            static_cast<ssize_t>(line.size()));
  }
  logger->write_fd.Reset();  // EOF: the logger drains and exits
  CHECK(WaitProcessGone(logger->pid, logger->start_ticks, 5s));
  size_t current = testing::FileSize(path), previous = testing::FileSize(path + ".1");
  CHECK(current + previous <= 8192);
  CHECK(previous == 4096);
  CHECK(current == 20000 % 4096);
  CHECK(testing::LeftoverChildren().empty());
}

std::string ProcFile(pid_t pid, const char* name) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/" + name);
  return text.ok() ? *text : "";
}

size_t RssKib(pid_t pid) {
  std::string status = ProcFile(pid, "status");
  size_t at = status.find("VmRSS:");
  return at == std::string::npos ? 0 : std::stoul(status.substr(at + 6));
}

// QEMU's UART paces a guest's console at its baud rate (a few KB/s), so a
// flooding guest never tests the logger's speed; a writer on the pipe does.
TEST_CASE("console logger: a writer flooding at full speed stays within the cap, never waits long") {
  testing::AdoptDetachedProcesses();
  TempDir dir = testing::ScratchDir("banger-vmm-");
  const std::string path = JoinPath(dir.path(), "console.log");
  const uint64_t cap = LaunchConfig().console_log_cap;
  auto logger = StartConsoleLogger(path, cap, "flood");
  REQUIRE(logger.ok());
  const size_t rss_before = RssKib(logger->pid);

  std::string chunk(4096, 'x');
  for (size_t i = 63; i < chunk.size(); i += 64) chunk[i] = '\n';
  uint64_t written = 0;
  size_t peak = 0;
  auto slowest = std::chrono::steady_clock::duration::zero();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; std::chrono::steady_clock::now() - start < 3s; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(write(logger->write_fd.get(), chunk.data(), chunk.size()) ==
            static_cast<ssize_t>(chunk.size()));
    slowest = std::max(slowest, std::chrono::steady_clock::now() - t0);
    written += chunk.size();
    if (i % 64 == 0) peak = std::max(peak, testing::FileSize(path) + testing::FileSize(path + ".1"));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const size_t rss_during = RssKib(logger->pid);
  const std::string last = "the last line\n";
  REQUIRE(write(logger->write_fd.get(), last.data(), last.size()) == static_cast<ssize_t>(last.size()));
  logger->write_fd.Reset();
  CHECK(WaitProcessGone(logger->pid, logger->start_ticks, 10s));
  const size_t total = testing::FileSize(path) + testing::FileSize(path + ".1");
  std::printf("console logger flood: %.0f MB in %.1f s (%.0f MB/s), slowest write %.1f ms, "
              "peak %zu bytes on disk (cap %llu), rss %zu -> %zu KiB\n",
              written / 1e6, seconds, written / 1e6 / seconds,
              std::chrono::duration<double, std::milli>(slowest).count(), peak,
              static_cast<unsigned long long>(cap), rss_before, rss_during);
  CHECK(written > 10 * cap);  // rotated many times over
  CHECK(peak <= cap);
  CHECK(total <= cap);
  CHECK(total >= cap / 2);
  // A pipe write waits only while the logger writes a buffer out.
  CHECK(slowest < 1s);
  CHECK(rss_during < rss_before + 1024);
  // The newest bytes are kept: the rotated file then the current one end
  // with the last line (a rotation may fall inside it).
  auto rotated = ReadFile(path + ".1");
  auto current = ReadFile(path);
  REQUIRE(rotated.ok());
  REQUIRE(current.ok());
  const std::string kept = *rotated + *current;
  REQUIRE(kept.size() >= last.size());
  CHECK(kept.compare(kept.size() - last.size(), last.size(), last) == 0);
  CHECK(testing::LeftoverChildren().empty());
}

// The child sets its title right after it is started: wait for it.
std::string CmdlineOnceRetitled(pid_t pid, const std::string& prefix) {
  std::string cmdline;
  for (int i = 0; i < 200; ++i) {
    cmdline = ProcFile(pid, "cmdline");
    if (cmdline.rfind(prefix, 0) == 0) break;
    std::this_thread::sleep_for(10ms);
  }
  return cmdline;
}

TEST_CASE("console logger: ps shows its own title, not the command that forked it") {
  testing::AdoptDetachedProcesses();
  REQUIRE(ProcessTitleCapacity() > 0);  // the test main records the area like the CLI's
  const std::string own_cmdline = ProcFile(getpid(), "cmdline");
  TempDir dir = testing::ScratchDir("banger-vmm-");
  // As the drivers start a VMM: the VMM's stdout through the logger.
  VmmSpawn spawn;
  spawn.vm = "web";
  spawn.argv = {FindProgram("sleep"), "30"};
  spawn.env = DefaultEnvironment();
  spawn.console_log = JoinPath(dir.path(), "console.log");
  spawn.console_log_cap = 8192;
  spawn.stderr_log = JoinPath(dir.path(), "vmm.stderr.log");
  auto process = VmmProcess::Start(spawn);
  REQUIRE(process.ok());
  std::vector<pid_t> children = testing::LeftoverChildren(std::chrono::milliseconds(0));
  REQUIRE(children.size() == 2);
  const pid_t logger = children[0] == process->pid() ? children[1] : children[0];
  REQUIRE(logger != process->pid());

  const std::string want = "banger: console logger, vm web";
  CHECK(ConsoleLoggerTitle("web") == want);
  // Exactly the title: no trailing NULs that ps would show as spaces, and
  // nothing left of the command line that forked it.
  CHECK(CmdlineOnceRetitled(logger, "banger:") == want + std::string(1, '\0'));
  CHECK(ProcFile(logger, "comm") == "banger-console\n");
  CHECK(ProcFile(getpid(), "cmdline") == own_cmdline);  // only the child changed
  CHECK(getenv("PATH") != nullptr);  // the environment moved, still readable

  REQUIRE(process->Stop().ok());  // the VMM, then the logger, by PID
  CHECK(testing::LeftoverChildren().empty());
}

struct TitleArgs {
  const char* title;
};

void TitleAndWait(void* raw) {
  SetProcessTitle(static_cast<TitleArgs*>(raw)->title, "a-much-longer-short-name");
  pause();
  _exit(0);
}

TEST_CASE("process title: a title longer than the area is cut to fit") {
  testing::AdoptDetachedProcesses();
  const size_t capacity = ProcessTitleCapacity();
  REQUIRE(capacity > 0);
  const std::string title(capacity + 100, 'x');
  TitleArgs args{title.c_str()};
  auto pid = ForkDetached({}, &TitleAndWait, &args);
  REQUIRE(pid.ok());
  const uint64_t ticks = ProcessStartTicks(*pid);
  CHECK(CmdlineOnceRetitled(*pid, "xxx") == std::string(capacity, 'x') + std::string(1, '\0'));
  CHECK(ProcFile(*pid, "comm") == "a-much-longer-s\n");  // 15 bytes
  REQUIRE(KillProcess(*pid, ticks).ok());
  CHECK(testing::LeftoverChildren().empty());
}

}  // namespace
}  // namespace banger::vmm
