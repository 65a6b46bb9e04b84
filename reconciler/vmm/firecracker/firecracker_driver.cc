#include "reconciler/vmm/firecracker/firecracker_driver.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"
#include "reconciler/vmm/firecracker/api_client.h"
#include "reconciler/os/process.h"
#include "reconciler/vmm/unix_socket.h"
#include "reconciler/vmm/vmm_process.h"

namespace banger::vmm {
namespace {

constexpr const char* kApiSocketName = "firecracker.sock";
constexpr const char* kChannelSocketName = "channel.sock";

// Where Firecracker's files live, as the host sees them and as Firecracker
// is told (they differ only inside a jail).
struct FcLayout {
  std::string api_host, api_fc;
  std::string channel_host, channel_fc;
};

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

Result<std::vector<std::string>> BuildFirecrackerArgv(const FirecrackerDriverOptions& options,
                                                      const std::string& firecracker_binary,
                                                      const std::string& vm_name,
                                                      const std::string& api_socket) {
  std::vector<std::string> fc_args = {"--api-sock", api_socket};
  if (!options.jailer) {
    fc_args.insert(fc_args.begin(), firecracker_binary);
    return fc_args;
  }
  return BuildJailerArgv(*options.jailer, firecracker_binary, vm_name, fc_args);
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
  const std::string what = "start firecracker for vm " + Quote(config.name);
  if (config.run_dir.empty()) return InvalidArgument("vm " + Quote(config.name) + ": no run directory");
  BANGER_ASSIGN_OR_RETURN(std::string binary, Binary());

  FcLayout layout;
  PathMapper map_path = [](const std::string& p) { return p; };
  LaunchConfig staged = config;
  if (options_.jailer) {
    BANGER_RETURN_IF_ERROR(ValidateJailId(config.name));
    JailLayout jail(*options_.jailer, binary, config.name);
    auto stage = [&](const std::string& path, const std::string& name) -> Result<std::string> {
      auto r = StageIntoJail(jail, *options_.jailer, path, name);
      if (!r.ok()) return std::move(r).error().WithContext(what);
      return r;
    };
    BANGER_ASSIGN_OR_RETURN(staged.kernel, stage(config.kernel, "vmlinux"));
    if (!config.initrd.empty()) { BANGER_ASSIGN_OR_RETURN(staged.initrd, stage(config.initrd, "initrd")); }
    for (auto& d : staged.drives) { BANGER_ASSIGN_OR_RETURN(d.path, stage(d.path, "drive-" + d.id)); }
    layout.api_fc = std::string("/") + kApiSocketName;
    layout.channel_fc = std::string("/") + kChannelSocketName;
    layout.api_host = jail.HostPath(layout.api_fc);
    layout.channel_host = jail.HostPath(layout.channel_fc);
  } else {
    layout.api_host = layout.api_fc = JoinPath(config.run_dir, kApiSocketName);
    layout.channel_host = layout.channel_fc = JoinPath(config.run_dir, kChannelSocketName);
  }
  for (const auto* p : {&layout.api_host, &layout.channel_host}) {
    if (p->size() > MaxUnixSocketPath())
      return InvalidArgument(what + ": socket path " + Quote(*p) + " is too long");
  }

  // Built before anything starts, so a config Firecracker cannot express
  // fails without a process to clean up.
  BANGER_ASSIGN_OR_RETURN(std::vector<ApiRequest> requests,
                          BuildBootRequests(staged, layout.channel_fc, map_path));
  requests.push_back(InstanceStartRequest());
  BANGER_ASSIGN_OR_RETURN(std::vector<std::string> argv,
                          BuildFirecrackerArgv(options_, binary, config.name, layout.api_fc));

  Status dirs = MakeDirs(config.run_dir, 0700);
  if (!dirs.ok()) return std::move(dirs).error().WithContext(what);
  BANGER_RETURN_IF_ERROR(RemoveStale(layout.api_host));
  BANGER_RETURN_IF_ERROR(RemoveStale(layout.channel_host));

  VmmSpawn spawn;
  spawn.argv = std::move(argv);
  spawn.env = DefaultEnvironment();
  spawn.console_log = config.console_log.empty() ? JoinPath(config.run_dir, "console.log")
                                                 : config.console_log;
  spawn.console_log_cap = config.console_log_cap;
  spawn.stderr_log = JoinPath(config.run_dir, "firecracker.stderr.log");
  auto process = VmmProcess::Start(spawn);
  if (!process.ok()) return std::move(process).error().WithContext(what);

  Status ready = WaitUntilReady(*process, options_.ready_timeout, [&]() -> Status {
    auto fd = ConnectUnixSocket(layout.api_host);
    if (!fd.ok()) return std::move(fd).error();
    return OkStatus();
  });
  if (!ready.ok()) return std::move(ready).error().WithContext(what);

  FirecrackerApiClient api(layout.api_host, options_.request_timeout);
  for (const ApiRequest& request : requests) {
    Status sent = api.Send(request);
    if (!sent.ok()) return std::move(sent).error().WithContext(what);
  }

  model::VmHandles h;
  h.vmm = "firecracker";
  h.pid = process->pid();
  h.pid_start_ticks = process->start_ticks();
  h.accel = "kvm";
  h.api_socket = layout.api_host;
  if (config.want_channel) h.channel_socket = layout.channel_host;
  h.console_log = spawn.console_log;
  if (!config.nets.empty()) {
    h.tap = config.nets[0].tap;
    h.mac = config.nets[0].mac;
  }
  if (!config.drives.empty()) h.rootfs = config.drives[0].path;
  process->Release();
  return h;
}

Status FirecrackerDriver::Shutdown(const model::VmHandles& handles,
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
