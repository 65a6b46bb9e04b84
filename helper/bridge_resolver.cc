#include "helper/bridge_resolver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/process.h"
#include "reconciler/os/unique_fd.h"

namespace banger::helper {
namespace {

// Whether a UDP socket is bound to address:53 in this network namespace
// (/proc/self/net/udp). Asking over the network instead would depend on
// the namespace's loopback being up.
bool Bound(const std::string& address) {
  in_addr a{};
  if (inet_pton(AF_INET, address.c_str(), &a) != 1) return false;
  char want[16];
  // The kernel prints the address as the raw 32-bit value in hex.
  snprintf(want, sizeof want, "%08X:0035", static_cast<unsigned>(a.s_addr));
  auto table = ReadFile("/proc/self/net/udp");
  return table.ok() && table->find(want) != std::string::npos;
}

}  // namespace

std::string RenderHostsFile(std::vector<NameEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const NameEntry& a, const NameEntry& b) { return a.name < b.name; });
  std::string out = "# written by banger-helper; dnsmasq re-reads it on SIGHUP\n";
  for (const auto& e : entries) out += e.address + " " + e.name + ".vm " + e.name + "\n";
  return out;
}

std::vector<std::string> DnsmasqArgv(const ResolverConfig& c, const std::string& binary) {
  const std::string base = JoinPath(c.dir, c.bridge);
  return {binary,
          "--keep-in-foreground",
          "--conf-file=/dev/null",  // none of the host's dnsmasq configuration
          "--no-hosts",             // nor its /etc/hosts
          "--addn-hosts=" + base + ".hosts",
          "--listen-address=" + c.listen_address,
          "--bind-interfaces",
          "--local=/vm/",  // .vm is ours: never forwarded upstream
          "--domain-needed",
          "--bogus-priv",
          "--pid-file=" + base + ".pid",
          "--log-facility=" + base + ".log"};
}

std::string BridgeResolver::hosts_path() const {
  return JoinPath(config_.dir, config_.bridge + ".hosts");
}

void StopOrphanResolver(const std::string& dir, const std::string& bridge) {
  auto pid_text = ReadFile(JoinPath(dir, bridge + ".pid"));
  if (!pid_text.ok()) return;
  const pid_t pid = static_cast<pid_t>(std::atol(pid_text->c_str()));
  if (pid <= 1) return;
  auto cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (!cmdline.ok()) return;
  const std::string mine = "--addn-hosts=" + JoinPath(dir, bridge + ".hosts");
  if (cmdline->find(mine + std::string(1, '\0')) == std::string::npos) return;
  const uint64_t ticks = ProcessStartTicks(pid);
  (void)SignalProcess(pid, ticks, SIGTERM);
  if (!WaitProcessGone(pid, ticks, std::chrono::seconds(2))) (void)KillProcess(pid, ticks);
}

Result<std::unique_ptr<BridgeResolver>> BridgeResolver::Start(
    const ResolverConfig& config, const std::vector<NameEntry>& names) {
  const std::string what = "resolver on bridge " + Quote(config.bridge);
  std::string binary = config.dnsmasq;
  if (binary.find('/') == std::string::npos) binary = FindProgram(binary);
  if (binary.empty())
    return Error(Code::kUnavailable, what + ": dnsmasq not found (apt-get install dnsmasq-base)");
  BANGER_RETURN_IF_ERROR(MakeDirs(config.dir, 0755));
  StopOrphanResolver(config.dir, config.bridge);
  if (chmod(config.dir.c_str(), 0755) != 0) return Error::FromErrno(what + ": chmod " + Quote(config.dir));
  const std::string hosts = JoinPath(config.dir, config.bridge + ".hosts");
  BANGER_RETURN_IF_ERROR(AtomicWriteFile(hosts, RenderHostsFile(names), 0644));

  std::vector<std::string> argv = DnsmasqArgv(config, binary);
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return Error::FromErrno(what + ": fork");
  if (pid == 0) {
    // The resolver lives and dies with the helper that started it.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
    }
    close_range(3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  std::unique_ptr<BridgeResolver> resolver(new BridgeResolver(config, pid));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Bound(config.listen_address)) return resolver;
    if (!resolver->Alive()) {
      std::string log = ReadFileTail(JoinPath(config.dir, config.bridge + ".log"), 400);
      return Error(Code::kUnavailable, what + ": dnsmasq exited" + (log.empty() ? "" : ": " + log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Error(Code::kTimeout, what + ": dnsmasq did not bind " +
                                   config.listen_address + ":53 within 10 s");
}

BridgeResolver::~BridgeResolver() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

bool BridgeResolver::Alive() {
  if (pid_ <= 0) return false;
  if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

Status BridgeResolver::SetNames(const std::vector<NameEntry>& names) {
  BANGER_RETURN_IF_ERROR(AtomicWriteFile(hosts_path(), RenderHostsFile(names), 0644));
  if (!Alive())
    return Error(Code::kUnavailable, "resolver on bridge " + Quote(config_.bridge) + " is not running");
  if (kill(pid_, SIGHUP) != 0) return Error::FromErrno("signal the resolver of " + Quote(config_.bridge));
  return OkStatus();
}

}  // namespace banger::helper
