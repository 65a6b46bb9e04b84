// Test fixture for the root helper: a throwaway network namespace and the
// real banger-helper binary serving inside it on a socket in a scratch dir.
// Shared by integration/helper and integration/net (header only, since each
// test folder is its own executable).
//
// Teardown stops the helper by PID (SIGTERM, then SIGKILL), reaps it, kills
// processes the tests saw the helper start and deletes the namespace, also
// when a test fails; Teardown() reports what it could not clean so tests can
// assert that nothing leaked.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "reconciler/net/helper_client.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/process.h"
#include "tests/support/test_env.h"

namespace banger::testing {

inline constexpr uid_t kTestOwner = 4242;  // an unprivileged uid with no passwd entry
inline constexpr uid_t kStranger = 65534;  // nobody

inline std::string HelperBin() {
  if (const char* b = getenv("BANGER_HELPER_BIN"); b && *b) return b;
  return JoinPath(BinaryDir(), "helper/banger-helper");
}

// Runs a command and throws with its stderr when it fails (test setup only).
inline ExecResult MustRun(const std::vector<std::string>& argv, const std::string& input = "") {
  ExecRequest request;
  request.argv = argv;
  request.stdin_data = input;
  request.timeout = std::chrono::seconds(30);
  auto r = RunChecked(request);
  if (!r.ok()) throw std::runtime_error(r.error().message());
  return std::move(r).value();
}

inline ExecResult Run(const std::vector<std::string>& argv) {
  ExecRequest request;
  request.argv = argv;
  request.timeout = std::chrono::seconds(30);
  auto r = SystemRunner().Run(request);
  if (!r.ok()) throw std::runtime_error(r.error().message());
  return std::move(r).value();
}

inline bool NamespaceExists(const std::string& name) {
  return PathExists("/run/netns/" + name);
}

inline bool ProcessGone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

class HelperFixture {
 public:
  // `extra_args` are added to `serve` (--jailer ... for the jail tests).
  explicit HelperFixture(std::vector<std::string> extra_args = {})
      : dir_(ScratchDir("banger-helper-test-")), extra_args_(std::move(extra_args)) {
    static std::atomic<int> counter{0};
    ns_ = "bgtest-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    // Reachable by the owner and by strangers: the helper's peer check, not
    // the file mode, must be what refuses them.
    chmod(dir_.path().c_str(), 0755);
    socket_ = JoinPath(dir_.path(), "helper.sock");
    state_dir_ = JoinPath(dir_.path(), "state");
    MustRun({"ip", "netns", "add", ns_});
    try {
      StartHelper();
    } catch (...) {
      Teardown();  // the destructor does not run for a throwing constructor
      throw;
    }
  }

  ~HelperFixture() { (void)Teardown(); }

  HelperFixture(const HelperFixture&) = delete;
  HelperFixture& operator=(const HelperFixture&) = delete;

  const std::string& ns() const { return ns_; }
  const std::string& socket() const { return socket_; }
  const std::string& dir() const { return dir_.path(); }
  const std::string& state_dir() const { return state_dir_; }
  pid_t helper_pid() const { return pid_; }

  net::HelperClientOptions ClientOptions() const {
    net::HelperClientOptions o;
    o.socket_path = socket_;
    o.timeout = std::chrono::seconds(20);
    return o;
  }

  net::HelperClient Client() const {
    auto c = net::HelperClient::Connect(ClientOptions());
    if (!c.ok()) throw std::runtime_error(c.error().message());
    return std::move(c).value();
  }

  // Runs a command inside the namespace (sysfs remounted for it).
  ExecResult InNs(std::vector<std::string> argv) const {
    argv.insert(argv.begin(), {"ip", "netns", "exec", ns_});
    return MustRun(argv);
  }

  // A process the helper started for the test (a jailer); killed at
  // teardown if it still runs, and reported as a leak then.
  void TrackProcess(pid_t pid) { processes_.push_back(pid); }

  void StartHelper() {
    std::string ns_path = "/run/netns/" + ns_;
    std::vector<std::string> args = {HelperBin(),  "serve",    "--owner",
                                     std::to_string(kTestOwner), "--socket", socket_,
                                     "--state-dir", state_dir_};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int ns_fd = open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0) throw std::runtime_error("open " + ns_path);
    pid_t pid = fork();
    if (pid == 0) {
      // Only async-signal-safe calls until exec.
      if (setns(ns_fd, CLONE_NEWNET) != 0) _exit(126);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(ns_fd);
    if (pid < 0) throw std::runtime_error("fork helper");
    pid_ = pid;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    for (;;) {
      if (net::HelperClient::Connect(ClientOptions()).ok()) return;
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("banger-helper exited at start, status " + std::to_string(status));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("banger-helper did not answer on " + socket_);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // SIGTERM, wait up to 5 s, then SIGKILL; always reaps. True if it exited
  // on SIGTERM with status 0.
  bool StopHelper() {
    if (pid_ <= 0) return true;
    kill(pid_, SIGTERM);
    int status = 0;
    bool clean = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    return clean;
  }

  // Cleans everything; returns a description of what leaked ("" if none).
  std::string Teardown() {
    if (torn_down_) return "";
    torn_down_ = true;
    std::string leaks;
    pid_t pid = pid_;
    StopHelper();
    if (pid > 0 && !ProcessGone(pid)) leaks += "helper pid " + std::to_string(pid) + " alive; ";
    for (pid_t p : processes_) {
      if (ProcessAlive(p, 0)) {  // a zombie counts as gone
        leaks += "process " + std::to_string(p) + " still running; ";
        kill(p, SIGKILL);
      }
    }
    if (NamespaceExists(ns_)) Run({"ip", "netns", "del", ns_});
    if (NamespaceExists(ns_)) leaks += "namespace " + ns_ + " left; ";
    return leaks;
  }

 private:
  TempDir dir_;
  std::string ns_;
  std::string socket_;
  std::string state_dir_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  std::vector<pid_t> processes_;
  bool torn_down_ = false;
};

// The namespace's ruleset without banger's table: every other table, each
// listed in full.
inline std::string RulesetOutsideBanger(const HelperFixture& fx) {
  std::string out;
  auto tables = fx.InNs({"nft", "list", "tables"}).out;
  size_t pos = 0;
  while (pos < tables.size()) {
    size_t end = tables.find('\n', pos);
    if (end == std::string::npos) end = tables.size();
    std::string line = tables.substr(pos, end - pos);  // "table inet foreign"
    pos = end + 1;
    if (line.empty() || line == "table ip banger") continue;
    std::string family = line.substr(6, line.find(' ', 6) - 6);
    std::string name = line.substr(line.rfind(' ') + 1);
    out += fx.InNs({"nft", "list", "table", family, name}).out;
  }
  return out;
}

inline bool BangerTableExists(const HelperFixture& fx) {
  return fx.InNs({"nft", "list", "tables"}).out.find("table ip banger\n") != std::string::npos;
}

}  // namespace banger::testing
