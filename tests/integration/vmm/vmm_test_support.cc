#include "tests/integration/vmm/vmm_test_support.h"

#include <dirent.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

namespace banger::testing {
namespace {

std::string CacheDir() {
  const char* dir = getenv("BANGER_CACHE_DIR");
  return dir && *dir ? dir : "/var/cache/banger-test";
}

Result<std::string> FindVmlinuz(const std::string& root) {
  auto names = ListDir(JoinPath(root, "boot"));
  if (!names.ok()) return std::move(names).error();
  for (const auto& n : *names) {
    if (n.rfind("vmlinuz-", 0) == 0) return JoinPath(JoinPath(root, "boot"), n);
  }
  return NotFound("no vmlinuz in " + Quote(root));
}

Result<std::string> FetchCloudKernel() {
  const std::string root = JoinPath(CacheDir(), "cloud-kernel");
  if (auto found = FindVmlinuz(root); found.ok()) return found;
  BANGER_RETURN_IF_ERROR(MakeDirs(CacheDir()));
  // The meta package only depends on the versioned one that holds the files.
  BANGER_ASSIGN_OR_RETURN(ExecResult deps,
                          RunChecked({.argv = {"apt-cache", "depends", "linux-image-cloud-amd64"}}));
  std::string package;
  const std::string key = "Depends: ";
  if (size_t at = deps.out.find(key); at != std::string::npos) {
    package = deps.out.substr(at + key.size());
    package = package.substr(0, package.find_first_of("\r\n "));
  }
  if (package.empty()) return NotFound("linux-image-cloud-amd64 has no concrete dependency");
  BANGER_ASSIGN_OR_RETURN(TempDir work, TempDir::Create(CacheDir(), "fetch-"));
  auto downloaded = RunChecked({.argv = {"apt-get", "download", package}, .cwd = work.path()});
  if (!downloaded.ok()) return std::move(downloaded).error();
  BANGER_ASSIGN_OR_RETURN(std::vector<std::string> files, ListDir(work.path()));
  std::string deb;
  for (const auto& f : files) {
    if (f.size() > 4 && f.substr(f.size() - 4) == ".deb") deb = JoinPath(work.path(), f);
  }
  if (deb.empty()) return NotFound("apt-get download left no .deb in " + Quote(work.path()));
  const std::string unpacked = JoinPath(work.path(), "root");
  auto extracted = RunChecked({.argv = {"dpkg-deb", "-x", deb, unpacked}});
  if (!extracted.ok()) return std::move(extracted).error();
  // Another test run may have won the race; either copy is fine.
  Status moved = RenameNoReplace(unpacked, root);
  if (!moved.ok() && moved.error().code() != Code::kAlreadyExists) return std::move(moved).error();
  return FindVmlinuz(root);
}

}  // namespace

Result<std::string> CloudKernel() {
  static std::mutex mu;
  static std::string cached;
  std::lock_guard<std::mutex> lock(mu);
  if (!cached.empty()) return cached;
  BANGER_ASSIGN_OR_RETURN(cached, FetchCloudKernel());
  return cached;
}

std::string GuestCmdline(const std::string& extra) {
  std::string cmdline = "console=ttyS0";
  auto cpuinfo = ReadFile("/proc/cpuinfo");
  const std::string key = "cpu MHz";
  if (cpuinfo.ok()) {
    if (size_t at = cpuinfo->find(key); at != std::string::npos) {
      size_t colon = cpuinfo->find(':', at);
      double mhz = colon == std::string::npos ? 0 : std::strtod(cpuinfo->c_str() + colon + 1, nullptr);
      if (mhz > 0) cmdline += " tsc_early_khz=" + std::to_string(static_cast<long>(mhz * 1000));
    }
  }
  return extra.empty() ? cmdline : cmdline + " " + extra;
}

std::string FirecrackerDouble() {
  return JoinPath(SourceDir(), "tests/fixtures/firecracker/fc_double.py");
}

std::string FirecrackerApiContract() {
  return JoinPath(SourceDir(), "schemas/firecracker-api-contract.json");
}

void AdoptDetachedProcesses() { prctl(PR_SET_CHILD_SUBREAPER, 1); }

std::vector<pid_t> LeftoverChildren(std::chrono::milliseconds settle) {
  const pid_t self = getpid();
  const auto deadline = std::chrono::steady_clock::now() + settle;
  for (;;) {
    int status;
    while (waitpid(-1, &status, WNOHANG) > 0) {
    }
    std::vector<pid_t> alive;
    auto entries = ListDir("/proc");
    if (entries.ok()) {
      for (const auto& e : *entries) {
        if (e.find_first_not_of("0123456789") != std::string::npos) continue;
        auto stat = ReadFile("/proc/" + e + "/stat");
        if (!stat.ok()) continue;
        size_t paren = stat->rfind(')');
        if (paren == std::string::npos) continue;
        char state = 0;
        int ppid = 0;
        if (sscanf(stat->c_str() + paren + 1, " %c %d", &state, &ppid) != 2) continue;
        if (ppid == self && state != 'Z') alive.push_back(std::stoi(e));
      }
    }
    if (alive.empty() || std::chrono::steady_clock::now() >= deadline) return alive;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::vector<int> OpenFds(pid_t pid) {
  std::vector<int> fds;
  auto names = ListDir("/proc/" + std::to_string(pid) + "/fd");
  if (!names.ok()) return fds;
  for (const auto& n : *names) fds.push_back(std::stoi(n));
  std::sort(fds.begin(), fds.end());
  return fds;
}

bool WaitForText(const std::string& path, const std::string& needle,
                 std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (const std::string& p : {path, path + ".1"}) {
      auto text = ReadFile(p);
      if (text.ok() && text->find(needle) != std::string::npos) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

size_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

vmm::LaunchConfig KernelOnlyGuest(const std::string& name, const std::string& run_dir,
                                  uint64_t memory_bytes) {
  auto kernel = CloudKernel();
  if (!kernel.ok()) FAIL("cloud kernel: " << kernel.error().message());
  vmm::LaunchConfig c;
  c.name = name;
  c.vcpus = 1;
  c.memory_bytes = memory_bytes;
  c.kernel = *kernel;
  c.cmdline = GuestCmdline();
  c.run_dir = run_dir;
  c.console_log = JoinPath(run_dir, "console.log");
  c.want_channel = true;
  return c;
}

std::vector<nlohmann::json> DoubleRequestLog(const std::string& dir) {
  std::vector<nlohmann::json> out;
  auto text = ReadFile(JoinPath(dir, "fc_double.requests.jsonl"));
  if (!text.ok()) return out;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t nl = text->find('\n', pos);
    if (nl == std::string::npos) nl = text->size();
    if (nl > pos) out.push_back(nlohmann::json::parse(text->substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return out;
}

}  // namespace banger::testing
