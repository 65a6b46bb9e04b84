#include "reconciler/vmm/firecracker/firecracker_driver.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "helper/protocol/protocol.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"
#include "reconciler/vmm/firecracker/api_client.h"
#include "reconciler/os/process.h"
#include "reconciler/vmm/unix_socket.h"

namespace banger::vmm {
namespace {

constexpr const char* kApiSocketName = "firecracker.sock";
constexpr const char* kChannelSocketName = "channel.sock";

// Console and stderr of a launch, in the run directory.
VmmSpawn Spawn(const LaunchConfig& config) {
  VmmSpawn spawn;
  spawn.vm = config.name;
  spawn.console_log = config.console_log.empty() ? JoinPath(config.run_dir, "console.log")
                                                 : config.console_log;
  spawn.console_log_cap = config.console_log_cap;
  spawn.stderr_log = JoinPath(config.run_dir, "firecracker.stderr.log");
  return spawn;
}

Status RemoveStale(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT)
    return Error::FromErrno("remove stale socket " + Quote(path));
  return OkStatus();
}

}  // namespace

FirecrackerDriverOptions FirecrackerDriverOptions::FromEnvironment() {
  FirecrackerDriverOptions options;
  if (const char* b = getenv("BANGER_FIRECRACKER"); b && *b) options.binary = b;
  return options;
}

std::vector<std::string> BuildFirecrackerArgv(const std::string& firecracker_binary,
                                              const std::string& api_socket) {
  return {firecracker_binary, "--api-sock", api_socket};
}

FirecrackerDriver::FirecrackerDriver(FirecrackerDriverOptions options)
    : options_(std::move(options)) {}

Result<std::string> FirecrackerDriver::Binary() const {
  const std::string wanted = options_.binary.empty() ? "firecracker" : options_.binary;
  std::string found = FindProgram(wanted);
  if (found.empty()) {
    return Error(Code::kUnavailable, "firecracker: " + Quote(wanted) +
                                         " not found (install it from the Firecracker "
                                         "releases, or set BANGER_FIRECRACKER)");
  }
  std::error_code ec;
  std::string absolute = std::filesystem::absolute(found, ec).string();
  if (ec) return Error(Code::kIo, "firecracker: resolve " + Quote(found) + ": " + ec.message());
  return absolute;
}

DriverProbe FirecrackerDriver::Probe() {
  DriverProbe probe;
  if (!ProbeBinaryVersion(Binary(), options_.runner ? *options_.runner : SystemRunner(), probe)) return probe;
  UniqueFd kvm(open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (!kvm.valid()) {
    probe.detail = "firecracker needs KVM: cannot open '/dev/kvm': " + std::string(strerror(errno));
    return probe;
  }
  probe.available = true;
  probe.accel = "kvm";
  return probe;
}

Result<model::VmHandles> FirecrackerDriver::Launch(const LaunchConfig& config) {
  if (config.run_dir.empty()) return InvalidArgument("vm " + Quote(config.name) + ": no run directory");
  if (config.jailed) return LaunchJailed(config);
  return LaunchUnjailed(config, [&config](const std::string& channel)
                                    -> Result<std::vector<ApiRequest>> {
    PathMapper same = [](const std::string& p) { return p; };
    BANGER_ASSIGN_OR_RETURN(std::vector<ApiRequest> requests,
                            BuildBootRequests(config, channel, same));
    requests.push_back(InstanceStartRequest());
    return requests;
  }, options_.request_timeout);
}

Result<model::VmHandles> FirecrackerDriver::LaunchUnjailed(const LaunchConfig& config,
                                                           const RequestBuilder& build,
                                                           std::chrono::milliseconds request_timeout) {
  const std::string what = "start firecracker for vm " + Quote(config.name);
  BANGER_ASSIGN_OR_RETURN(std::string binary, Binary());
  const std::string api = JoinPath(config.run_dir, kApiSocketName);
  const std::string channel = JoinPath(config.run_dir, kChannelSocketName);
  for (const auto* p : {&api, &channel}) {
    if (p->size() > MaxUnixSocketPath())
      return InvalidArgument(what + ": socket path " + Quote(*p) + " is too long");
  }
  // Built before anything starts, so a config Firecracker cannot express
  // fails without a process to clean up.
  BANGER_ASSIGN_OR_RETURN(std::vector<ApiRequest> requests, build(channel));

  Status dirs = MakeDirs(config.run_dir, 0700);
  if (!dirs.ok()) return std::move(dirs).error().WithContext(what);
  BANGER_RETURN_IF_ERROR(RemoveStale(api));
  BANGER_RETURN_IF_ERROR(RemoveStale(channel));

  VmmSpawn spawn = Spawn(config);
  spawn.argv = BuildFirecrackerArgv(binary, api);
  spawn.env = DefaultEnvironment();
  auto process = VmmProcess::Start(spawn);
  if (!process.ok()) return std::move(process).error().WithContext(what);
  return Configure(config, *process, api, channel, requests, spawn.console_log, request_timeout);
}

Result<model::VmHandles> FirecrackerDriver::LaunchJailed(const LaunchConfig& config) {
  const std::string what = "start jailed firecracker for vm " + Quote(config.name);
  if (options_.jail_launcher == nullptr) {
    return FailedPrecondition(what + ": settings.jailer is set but this banger has no way to "
                                     "reach the root helper's jailer");
  }
  // What Firecracker sees inside the jail: everything directly below "/".
  LaunchConfig seen = config;
  seen.kernel = std::string("/") + helper::kJailKernel;
  if (!config.initrd.empty()) seen.initrd = std::string("/") + helper::kJailInitrd;
  for (auto& d : seen.drives) d.path = "/" + helper::JailDriveName(d.id);
  const std::string channel_fc = std::string("/") + kChannelSocketName;
  PathMapper same = [](const std::string& p) { return p; };
  BANGER_ASSIGN_OR_RETURN(std::vector<ApiRequest> requests,
                          BuildBootRequests(seen, channel_fc, same));
  requests.push_back(InstanceStartRequest());

  Status dirs = MakeDirs(config.run_dir, 0700);
  if (!dirs.ok()) return std::move(dirs).error().WithContext(what);
  JailLaunch launch;
  launch.vm = config.name;
  launch.kernel = config.kernel;
  launch.initrd = config.initrd;
  for (const auto& d : config.drives) launch.drives.emplace_back(d.id, d.path);
  std::string root;
  VmmSpawn spawn = Spawn(config);
  auto process = VmmProcess::StartWith(spawn, [&](int stdout_fd, int) -> Result<pid_t> {
    // The jailer gets one descriptor, the console, for stdout and stderr.
    launch.console_fd = stdout_fd;
    BANGER_ASSIGN_OR_RETURN(JailedProcess jailed, options_.jail_launcher->Start(launch));
    root = jailed.root;
    return jailed.pid;
  });
  if (!process.ok()) return std::move(process).error().WithContext(what);
  const std::string api_host = JoinPath(root, helper::kJailApiSocket);
  const std::string channel_host = JoinPath(root, kChannelSocketName);
  auto handles = Configure(config, *process, api_host, channel_host, requests, spawn.console_log,
                           options_.request_timeout);
  if (!handles.ok()) {
    (void)process->Stop();
    (void)options_.jail_launcher->Remove(config.name);
    return handles;
  }
  handles->jail = config.name;
  return handles;
}

Result<model::VmHandles> FirecrackerDriver::Configure(
    const LaunchConfig& config, VmmProcess& process, const std::string& api_host,
    const std::string& channel_host, const std::vector<ApiRequest>& requests,
    const std::string& console_log, std::chrono::milliseconds request_timeout) {
  const std::string what = "start firecracker for vm " + Quote(config.name);
  for (const auto* p : {&api_host, &channel_host}) {
    if (p->size() > MaxUnixSocketPath())
      return InvalidArgument(what + ": socket path " + Quote(*p) + " is too long");
  }

  Status ready = WaitUntilReady(process, options_.ready_timeout, [&]() -> Status {
    auto fd = ConnectUnixSocket(api_host);
    if (!fd.ok()) return std::move(fd).error();
    return OkStatus();
  });
  if (!ready.ok()) return std::move(ready).error().WithContext(what);

  FirecrackerApiClient api(api_host, request_timeout);
  for (const ApiRequest& request : requests) {
    Status sent = api.Send(request);
    if (!sent.ok()) return std::move(sent).error().WithContext(what);
  }

  model::VmHandles h;
  h.vmm = "firecracker";
  h.pid = process.pid();
  h.pid_start_ticks = process.start_ticks();
  h.accel = "kvm";
  h.api_socket = api_host;
  if (config.want_channel) h.channel_socket = channel_host;
  h.console_log = console_log;
  if (!config.nets.empty()) {
    h.tap = config.nets[0].tap;
    h.mac = config.nets[0].mac;
  }
  if (!config.drives.empty()) h.rootfs = config.drives[0].path;
  process.Release();
  return h;
}

Status FirecrackerDriver::Shutdown(const model::VmHandles& handles,
                                   std::chrono::milliseconds grace) {
  Status stopped = StopProcess(handles, grace);
  if (!stopped.ok() || handles.jail.empty()) return stopped;
  // The jail (and its hard links to the disks) goes once Firecracker has.
  if (options_.jail_launcher == nullptr) {
    return FailedPrecondition("remove the jail of vm " + Quote(handles.jail) +
                              ": the root helper's jailer is not reachable from this banger");
  }
  return options_.jail_launcher->Remove(handles.jail);
}

Status FirecrackerDriver::StopProcess(const model::VmHandles& handles,
                                      std::chrono::milliseconds grace) {
  if (!ProcessAlive(handles.pid, handles.pid_start_ticks)) return OkStatus();
  // The guest may ignore Ctrl-Alt-Del (or the API may be wedged); the kill
  // below ends it either way.
  if (!handles.api_socket.empty()) {
    FirecrackerApiClient api(handles.api_socket, std::chrono::seconds(2));
    (void)api.Send(SendCtrlAltDelRequest());
  }
  if (WaitProcessGone(handles.pid, handles.pid_start_ticks, grace)) return OkStatus();
  Status killed = KillProcess(handles.pid, handles.pid_start_ticks);
  if (!killed.ok()) {
    return std::move(killed).error().WithContext("stop firecracker " +
                                                 Quote(std::to_string(handles.pid)));
  }
  return OkStatus();
}

}  // namespace banger::vmm
