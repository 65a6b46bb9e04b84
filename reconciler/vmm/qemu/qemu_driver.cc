#include "reconciler/vmm/qemu/qemu_driver.h"

#include "reconciler/store/state_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"
#include "reconciler/os/process.h"
#include "reconciler/vmm/qemu/qmp_client.h"
#include "reconciler/vmm/unix_socket.h"
#include "reconciler/vmm/vmm_process.h"

namespace banger::vmm {
namespace {

using std::chrono::milliseconds;

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// Removes a socket left by an earlier run so readiness polling cannot
// mistake it for the new VMM's.
Status RemoveStaleSocket(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT)
    return Error::FromErrno("remove stale socket " + Quote(path));
  return OkStatus();
}

Status CheckSocketPath(const LaunchConfig& config, const std::string& path) {
  if (path.size() > MaxUnixSocketPath()) {
    return InvalidArgument("vm " + Quote(config.name) + ": socket path " + Quote(path) +
                           " is longer than " + std::to_string(MaxUnixSocketPath()) +
                           " bytes; use a shorter run directory");
  }
  return OkStatus();
}

}  // namespace

QemuDriverOptions QemuDriverOptions::FromEnvironment() {
  QemuDriverOptions options;
  options.binary = EnvOr("BANGER_QEMU", "");
  options.forced_accel = EnvOr("BANGER_ACCEL", "");
  options.probe_cache_dir = JoinPath(store::CacheDirFromProcess(), "accel");
  return options;
}

bool HostHasVhostVsock() {
  UniqueFd fd(open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC));
  return fd.valid();
}

QemuDriver::QemuDriver(QemuDriverOptions options) : options_(std::move(options)) {}

Result<std::string> QemuDriver::Binary() const {
  const std::string wanted = options_.binary.empty() ? "qemu-system-x86_64" : options_.binary;
  std::string found = FindProgram(wanted);
  if (found.empty()) {
    return Error(Code::kUnavailable,
                 "qemu: " + Quote(wanted) + " not found (install Debian's qemu-system-x86)");
  }
  if (found[0] != '/') {
    std::error_code ec;
    found = std::filesystem::absolute(found, ec).string();
    if (ec) return Error(Code::kIo, "qemu: resolve " + Quote(found) + ": " + ec.message());
  }
  return found;
}

DriverProbe QemuDriver::Probe() {
  DriverProbe probe;
  if (!ProbeBinaryVersion(Binary(), runner(), probe)) return probe;
  auto accel = ChooseAccel(runner(), probe.binary, options_.forced_accel);
  if (!accel.ok()) {
    probe.detail = accel.error().message();
    return probe;
  }
  probe.available = true;
  probe.accel = accel->accel;
  probe.detail = accel->detail;
  return probe;
}

Result<std::string> QemuDriver::LaunchAccel(const std::string& kernel) {
  BANGER_ASSIGN_OR_RETURN(std::string binary, Binary());
  BANGER_ASSIGN_OR_RETURN(AccelChoice choice, ChooseAccel(runner(), binary, options_.forced_accel,
                                                          kernel, options_.probe_cache_dir));
  return choice.accel;
}

Result<QemuHostPlan> QemuDriver::PlanLaunch(const LaunchConfig& config, bool* accel_forced) {
  const std::string vm = "vm " + Quote(config.name);
  if (config.run_dir.empty()) return InvalidArgument(vm + ": no run directory");
  BANGER_ASSIGN_OR_RETURN(std::string binary, Binary());
  auto accel = ChooseAccel(runner(), binary, options_.forced_accel, config.kernel,
                           options_.probe_cache_dir);
  if (!accel.ok()) return std::move(accel).error().WithContext(vm);

  QemuHostPlan plan;
  plan.binary = binary;
  plan.accel = accel->accel;
  plan.qmp_socket = JoinPath(config.run_dir, "qmp.sock");
  if (config.want_channel) {
    if (HostHasVhostVsock()) plan.vsock_cid = VsockCidForName(config.name);
    else plan.channel_socket = JoinPath(config.run_dir, "channel.sock");
  }
  BANGER_RETURN_IF_ERROR(CheckSocketPath(config, plan.qmp_socket));
  BANGER_RETURN_IF_ERROR(CheckSocketPath(config, plan.channel_socket));
  if (accel_forced) *accel_forced = accel->forced;
  return plan;
}

Result<model::VmHandles> QemuDriver::Launch(const LaunchConfig& config) {
  bool forced = false;
  BANGER_ASSIGN_OR_RETURN(QemuHostPlan plan, PlanLaunch(config, &forced));
  auto handles = LaunchWith(config, plan);
  if (!handles.ok() && plan.accel == "kvm" && !forced &&
      handles.error().code() == Code::kUnavailable) {
    // The probe guest was accepted but this one was not; software
    // emulation still gives a working (slower) VM.
    plan.accel = "tcg";
    handles = LaunchWith(config, plan);
  }
  return handles;
}

Result<model::VmHandles> QemuDriver::LaunchWith(const LaunchConfig& config,
                                                const QemuHostPlan& plan,
                                                const std::vector<int>& extra_fds,
                                                const AfterStart& after_start) {
  const std::string what = "start qemu for vm " + Quote(config.name);
  BANGER_ASSIGN_OR_RETURN(std::vector<std::string> argv, BuildQemuArgv(config, plan));
  Status dirs = MakeDirs(config.run_dir, 0700);
  if (!dirs.ok()) return std::move(dirs).error().WithContext(what);
  BANGER_RETURN_IF_ERROR(RemoveStaleSocket(plan.qmp_socket));
  if (!plan.channel_socket.empty()) BANGER_RETURN_IF_ERROR(RemoveStaleSocket(plan.channel_socket));

  VmmSpawn spawn;
  spawn.vm = config.name;
  spawn.argv = std::move(argv);
  spawn.env = DefaultEnvironment();
  spawn.console_log = config.console_log.empty() ? JoinPath(config.run_dir, "console.log")
                                                 : config.console_log;
  spawn.console_log_cap = config.console_log_cap;
  spawn.stderr_log = JoinPath(config.run_dir, "qemu.stderr.log");
  for (const auto& n : config.nets) {
    if (n.tap_fd >= 0) spawn.inherit_fds.push_back(n.tap_fd);
  }
  for (int fd : extra_fds) spawn.inherit_fds.push_back(fd);
  auto process = VmmProcess::Start(spawn);
  if (!process.ok()) return std::move(process).error().WithContext(what);

  Status ready = WaitUntilReady(*process, options_.ready_timeout, [&]() -> Status {
    BANGER_ASSIGN_OR_RETURN(QmpClient qmp, QmpClient::Connect(plan.qmp_socket, std::chrono::seconds(2)));
    BANGER_ASSIGN_OR_RETURN(std::string status, qmp.QueryStatus());
    (void)status;  // any answer means QEMU's main loop is up
    return OkStatus();
  });
  if (!ready.ok()) return std::move(ready).error().WithContext(what + " (" + plan.accel + ")");
  if (after_start) {
    Status after = after_start(*process, plan);
    if (!after.ok()) return std::move(after).error().WithContext(what);
  }

  model::VmHandles h;
  h.vmm = "qemu";
  h.pid = process->pid();
  h.pid_start_ticks = process->start_ticks();
  h.accel = plan.accel;
  h.api_socket = plan.qmp_socket;
  if (config.want_channel) {
    h.channel_socket = plan.vsock_cid ? "vsock:" + std::to_string(plan.vsock_cid)
                                      : plan.channel_socket;
  }
  h.console_log = spawn.console_log;
  if (!config.nets.empty()) {
    h.tap = config.nets[0].tap;
    h.mac = config.nets[0].mac;
  }
  if (!config.drives.empty()) h.rootfs = config.drives[0].path;
  process->Release();
  return h;
}

Status QemuDriver::Shutdown(const model::VmHandles& handles, milliseconds grace) {
  const std::string what = "stop qemu " + Quote(std::to_string(handles.pid));
  if (!ProcessAlive(handles.pid, handles.pid_start_ticks)) return OkStatus();
  // A guest that ignores the power button (or a QMP socket that is gone)
  // still ends with SIGKILL below.
  if (!handles.api_socket.empty()) {
    auto qmp = QmpClient::Connect(handles.api_socket, std::chrono::seconds(2));
    if (qmp.ok()) (void)qmp->Execute("system_powerdown");
  }
  if (WaitProcessGone(handles.pid, handles.pid_start_ticks, grace)) return OkStatus();
  Status killed = KillProcess(handles.pid, handles.pid_start_ticks);
  if (!killed.ok()) return std::move(killed).error().WithContext(what);
  return OkStatus();
}

}  // namespace banger::vmm
