#include "reconciler/system/system_status.h"

#include <ifaddrs.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <ctime>

#include "helper/protocol/protocol.h"
#include "reconciler/base/version.h"
#include "reconciler/daemon/daemon_files.h"
#include "reconciler/net/helper_client.h"
#include "reconciler/os/fs.h"
#include "reconciler/system/dns_probe.h"
#include "reconciler/system/running_vms.h"

namespace banger::system {
namespace {

Result<UnitState> ShowUnit(CommandRunner& runner, const std::string& unit) {
  ExecRequest request;
  request.argv = {"systemctl", "show", "--property=ActiveState,SubState,UnitFileState,MainPID,NRestarts",
                  unit};
  request.timeout = std::chrono::seconds(10);
  BANGER_ASSIGN_OR_RETURN(ExecResult r, RunChecked(runner, request));
  UnitState state;
  state.name = unit;
  size_t start = 0;
  while (start < r.out.size()) {
    size_t end = r.out.find('\n', start);
    if (end == std::string::npos) end = r.out.size();
    const std::string line = r.out.substr(start, end - start);
    start = end + 1;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "ActiveState") state.active = value;
    if (key == "SubState") state.sub = value;
    if (key == "UnitFileState") state.enabled = value;
    if (key == "MainPID") std::from_chars(value.data(), value.data() + value.size(), state.main_pid);
    if (key == "NRestarts") std::from_chars(value.data(), value.data() + value.size(), state.restarts);
  }
  return state;
}

std::string VersionOf(CommandRunner& runner, const std::string& binary) {
  ExecRequest request;
  request.argv = {binary, "--version"};
  request.timeout = std::chrono::seconds(10);
  auto r = RunChecked(runner, request);
  if (!r.ok()) return "(" + r.error().message() + ")";
  std::string out = r->out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string Ipv4AddressOf(const std::string& link) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string address;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET || link != a->ifa_name) continue;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    address = text;
    break;
  }
  freeifaddrs(list);
  return address;
}

// The helper keeps one resolver per bridge it made, named by
// <helper state>/dns/<bridge>.hosts.
std::vector<ResolverState> ProbeResolvers(const std::string& helper_state_dir) {
  std::vector<ResolverState> resolvers;
  auto names = ListDir(JoinPath(helper_state_dir, "dns"));
  if (!names.ok()) return resolvers;
  for (const std::string& file : *names) {
    constexpr std::string_view kSuffix = ".hosts";
    if (file.size() <= kSuffix.size() || !file.ends_with(kSuffix)) continue;
    ResolverState r;
    r.bridge = file.substr(0, file.size() - kSuffix.size());
    r.address = Ipv4AddressOf(r.bridge);
    if (r.address.empty()) {
      r.detail = "bridge has no IPv4 address (gone?)";
    } else if (auto rcode = ProbeDns(r.address, "banger-status-probe.vm", std::chrono::seconds(2));
               rcode.ok()) {
      r.answering = true;
      r.detail = "answered (rcode " + std::to_string(*rcode) + ")";
    } else {
      r.detail = rcode.error().message();
    }
    resolvers.push_back(std::move(r));
  }
  return resolvers;
}

}  // namespace

bool SystemStatus::ok() const {
  for (const UnitState& u : units)
    if (u.active != "active") return false;
  for (const ResolverState& r : resolvers)
    if (!r.answering) return false;
  return helper_reachable && daemon_alive;
}

Result<SystemStatus> CollectStatus(CommandRunner& runner, const SystemPaths& paths,
                                   const InstallRecord& record) {
  SystemStatus s;
  s.record = record;
  for (const char* unit : {kHelperUnit, kDaemonUnit}) {
    BANGER_ASSIGN_OR_RETURN(UnitState state, ShowUnit(runner, unit));
    s.units.push_back(std::move(state));
  }
  s.installed_banger = VersionOf(runner, JoinPath(record.layout.bin_dir, "banger"));
  s.installed_helper = VersionOf(runner, JoinPath(record.layout.bin_dir, "banger-helper"));

  s.helper_socket = JoinPath(paths.runtime_dir,
                             Basename(helper::DefaultSocketPath(record.layout.owner_uid)));
  auto client = net::HelperClient::Connect(
      {.socket_path = s.helper_socket, .timeout = std::chrono::seconds(2)});
  if (client.ok()) {
    if (auto ping = client->Ping(); ping.ok()) {
      s.helper_reachable = true;
      s.helper_build = ping->version;
    } else {
      s.helper_error = ping.error().message();
    }
  } else {
    s.helper_error = client.error().message();
  }
  if (s.helper_reachable && s.helper_build != BuildString()) {
    s.warnings.push_back("the helper runs build " + s.helper_build + ", this banger is " +
                         BuildString() + ": `sudo banger system restart`");
  }

  auto status = daemon::ReadDaemonStatus(record.layout.state_dir);
  if (!status.ok()) {
    s.daemon_error = status.error().message();
  } else if (!status->has_value()) {
    s.daemon_error = "no status file in " + Quote(daemon::StatusPath(record.layout.state_dir)) +
                     " (the daemon never ran)";
  } else {
    const daemon::DaemonStatus& d = **status;
    const int64_t now = static_cast<int64_t>(time(nullptr));
    s.daemon_build = d.build;
    s.daemon_heartbeat_age = now - d.heartbeat_at;
    s.daemon_alive = daemon::DaemonAlive(d, now);
    if (!s.daemon_alive) {
      s.daemon_error = "pid " + std::to_string(d.pid) + " gone or silent for " +
                       std::to_string(s.daemon_heartbeat_age) + " s";
    } else if (!d.last_cycle_error.empty()) {
      s.daemon_error = "last cycle: " + d.last_cycle_error;
    }
    if (s.daemon_alive && d.build != BuildString()) {
      s.warnings.push_back("the daemon runs build " + d.build + ", this banger is " +
                           BuildString() + ": `sudo banger system restart`");
    }
  }
  s.resolvers = ProbeResolvers(paths.helper_state_dir);
  if (auto vms = RunningVms(record.layout.state_dir); vms.ok()) {
    for (const RunningVm& vm : *vms) s.running_vms.push_back(vm.name);
  }
  return s;
}

}  // namespace banger::system
