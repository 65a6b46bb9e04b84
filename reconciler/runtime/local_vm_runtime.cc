#include "reconciler/runtime/local_vm_runtime.h"

#include <unistd.h>

#include <cstdio>

#include "reconciler/agent/agent_client.h"
#include "reconciler/agent/agent_exec.h"
#include "reconciler/agent/agent_guest_files.h"
#include "reconciler/disk/cow.h"
#include "reconciler/disk/cow_method.h"
#include "reconciler/disk/fs_probe.h"
#include "reconciler/disk/work_disk.h"
#include "reconciler/image/file_image_store.h"
#include "reconciler/kernel/file_kernel_store.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"
#include "reconciler/runtime/boot_config.h"
#include "reconciler/runtime/console_ready.h"
#include "reconciler/runtime/undo.h"
#include "reconciler/runtime/work_disk_provision.h"
#include "reconciler/store/handles_file.h"
#include "reconciler/workspace/declared_workspace.h"

namespace banger::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// How long file_sync gives a running VM's agent to answer before using SSH
// (images built before the agent have none; their channel stays silent).
constexpr std::chrono::seconds kAgentConnectTimeout(5);
// A declared workspace needs the agent: it is given longer to answer.
constexpr std::chrono::seconds kWorkspaceAgentTimeout(30);

std::string ExistingRootfs(const std::string& vm_dir) {
  for (const char* name : {"rootfs.qcow2", "rootfs.ext4"}) {
    std::string p = JoinPath(vm_dir, name);
    if (PathExists(p)) return p;
  }
  return "";
}

}  // namespace

void RemoveRunFiles(const std::string& vm_dir) {
  for (const char* name : {"qmp.sock", "channel.sock", "firecracker.sock", "vsock.sock",
                           "console.log", "console.log.1"})
    (void)RemoveTree(JoinPath(vm_dir, name));
}

LocalVmRuntime::LocalVmRuntime(VmRuntimeOptions options) : options_(std::move(options)) {}

vmm::VmmDriver* LocalVmRuntime::DriverNamed(std::string_view name) {
  for (auto& d : options_.drivers)
    if (d->name() == name) return d.get();
  return nullptr;
}

Result<vmm::VmmDriver*> LocalVmRuntime::ChooseDriver(const specs::Settings& settings) {
  std::lock_guard<std::mutex> l(probe_mu_);
  if (settings.vmm != "auto") {
    vmm::VmmDriver* d = DriverNamed(settings.vmm);
    if (!d) return Error(Code::kUnavailable, "no driver for vmm " + Quote(settings.vmm));
    vmm::DriverProbe probe = d->Probe();
    if (!probe.available)
      return Error(Code::kUnavailable, "vmm " + Quote(settings.vmm) + " is unavailable: " +
                                           probe.detail);
    return d;
  }
  // Firecracker boots faster but needs a working KVM; QEMU always works.
  if (vmm::VmmDriver* fc = DriverNamed("firecracker")) {
    if (fc->Probe().available) return fc;
  }
  if (vmm::VmmDriver* q = DriverNamed("qemu")) {
    vmm::DriverProbe probe = q->Probe();
    if (probe.available) return q;
    return Error(Code::kUnavailable, "no VMM available: qemu: " + probe.detail);
  }
  return Error(Code::kUnavailable, "no VMM driver configured");
}

Status LocalVmRuntime::Create(model::VmRecord& record, const apply::VmInputs& inputs,
                              apply::StepProgress& progress) {
  const std::string name = record.spec.name;
  if (!record.spec.from_snapshot.empty())
    return Internal("vm " + Quote(name) + " starts from snapshot " +
                    Quote(record.spec.from_snapshot) + ": a clone is made by the snapshot "
                    "store (SnapshotService::Clone), not booted");
  BANGER_ASSIGN_OR_RETURN(vmm::VmmDriver * driver, ChooseDriver(inputs.settings));
  // The host side of a declared workspace first: a bad ref fails before
  // anything of the VM exists.
  std::optional<workspace::ImportPlan> import;
  if (record.spec.workspace) {
    BANGER_ASSIGN_OR_RETURN(import, workspace::BuildDeclaredImport(runner(), *record.spec.workspace,
                                                                   Home(), HostTempParent()));
  }
  const std::string dir = options_.paths.vm_dir(name);
  const bool dir_existed = IsDirectory(dir);
  // Handles of a VM that is not recorded yet come from a create (or the
  // create half of a replace) killed after its VMM started: that VMM still
  // holds the disks, the tap and the address. Stop it the way a recorded
  // VM is stopped (same name, same address) before making the VM again.
  BANGER_ASSIGN_OR_RETURN(model::VmLiveness leftover, Observe(name));
  if (leftover.has_handles) {
    progress.Note("stopping what an interrupted create left running");
    BANGER_RETURN_IF_ERROR(Stop(record, progress));
  }
  BANGER_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  Undo undo;
  if (!dir_existed) undo.Add([dir] { (void)RemoveTree(dir); });

  BANGER_ASSIGN_OR_RETURN(disk::CowProbe probe, disk::ProbeCowMethods(dir));
  BANGER_ASSIGN_OR_RETURN(disk::CowMethod method,
                          disk::ChooseCowMethod(driver->name(), probe));
  VmFiles files = FilesOf(dir, method == disk::CowMethod::kQcow2);
  // A replaced VM may have left a rootfs of the other format.
  for (const char* stale : {"rootfs.qcow2", "rootfs.ext4"})
    BANGER_RETURN_IF_ERROR(RemoveTree(JoinPath(dir, stale)));
  progress.Note("rootfs: " + disk::DescribeCowMethod(method, probe));
  BANGER_RETURN_IF_ERROR(
      disk::CreateCowRootfs(method, image::RootfsPath(inputs.image), files.rootfs, runner()));
  undo.Add([rootfs = files.rootfs] { (void)RemoveTree(rootfs); });

  if (PathExists(files.work_disk)) {
    progress.Note("keeping the existing work disk");
    BANGER_RETURN_IF_ERROR(disk::GrowWorkDisk(files.work_disk, record.spec.disk, runner()));
  } else {
    BANGER_RETURN_IF_ERROR(disk::CreateWorkDisk(image::WorkSeedPath(inputs.image),
                                                files.work_disk, record.spec.disk, runner()));
    undo.Add([work = files.work_disk] { (void)RemoveTree(work); });
  }
  BANGER_RETURN_IF_ERROR(Boot(record, inputs, *driver, files.rootfs,
                              disk::CowMethodName(method), progress));
  if (import) {
    Status st = SendWorkspace(record, *import, workspace::ExistingRepo::kKeep, progress);
    if (!st.ok()) {
      // A VM without the workspace it declares is not created.
      (void)Stop(record, progress);
      return st;
    }
  }
  undo.Dismiss();
  return OkStatus();
}

Status LocalVmRuntime::Start(model::VmRecord& record, const apply::VmInputs& inputs,
                             apply::StepProgress& progress) {
  const std::string name = record.spec.name;
  BANGER_ASSIGN_OR_RETURN(model::VmLiveness live, Observe(name));
  if (live.process_running) return OkStatus();
  if (live.has_handles) BANGER_RETURN_IF_ERROR(Stop(record, progress));  // stale leftovers
  const std::string dir = options_.paths.vm_dir(name);
  const std::string rootfs = ExistingRootfs(dir);
  if (rootfs.empty()) return FailedPrecondition("rootfs of vm " + Quote(name) + " is missing");
  const std::string work = FilesOf(dir, false).work_disk;
  if (!PathExists(work)) return FailedPrecondition("work disk of vm " + Quote(name) + " is missing");
  Status grown = disk::GrowWorkDisk(work, record.spec.disk, runner());
  if (!grown.ok()) return std::move(grown).error().WithContext("vm " + Quote(name));
  BANGER_ASSIGN_OR_RETURN(vmm::VmmDriver * driver, ChooseDriver(inputs.settings));
  const bool qcow2 = rootfs.size() > 6 && rootfs.compare(rootfs.size() - 6, 6, ".qcow2") == 0;
  if (qcow2 && driver->name() != "qemu")
    return FailedPrecondition("vm " + Quote(name) + " has a qcow2 rootfs that " +
                              std::string(driver->name()) + " cannot read; replace the VM");
  return Boot(record, inputs, *driver, rootfs, qcow2 ? "qcow2" : "raw", progress);
}

Result<VmNic> LocalVmRuntime::AttachNetwork(const std::string& name, const std::string& ip,
                                            const specs::Settings& settings, Undo& undo,
                                            vmm::LaunchConfig& cfg) {
  BANGER_ASSIGN_OR_RETURN(VmNic nic, options_.network->Attach(name, ip, settings));
  const std::string tap = nic.tap;
  undo.Add([this, tap] { (void)options_.network->Detach(tap); });
  BANGER_RETURN_IF_ERROR(options_.network->SetName(name, ip, settings));
  undo.Add([this, name] { (void)options_.network->RemoveName(name); });
  cfg.nets.push_back({nic.tap, nic.fd.get(), nic.mac});
  return nic;
}

Status LocalVmRuntime::Boot(model::VmRecord& record, const apply::VmInputs& inputs,
                            vmm::VmmDriver& driver, const std::string& rootfs,
                            std::string_view cow_method, apply::StepProgress& progress) {
  const std::string name = record.spec.name;
  const std::string dir = options_.paths.vm_dir(name);
  VmFiles files = FilesOf(dir, false);
  Undo undo;

  // Per-boot content goes into /root while the disk is not in use.
  WorkDiskContent content;
  content.home = options_.home;
  content.file_syncs = inputs.file_syncs;
  content.git_identity = HostGitIdentity(runner());
  if (options_.access) {
    BANGER_ASSIGN_OR_RETURN(content.authorized_key, options_.access->AuthorizedKey());
  }
  BANGER_ASSIGN_OR_RETURN(record.synced,
                          ProvisionWorkDisk(files.work_disk, content, runner(), progress));

  BootParams params{name, "", "", "", HostTscKhz()};
  vmm::LaunchConfig cfg;
  std::string tap;
  UniqueFd tap_fd;
  if (options_.network) {
    BANGER_ASSIGN_OR_RETURN(SubnetInfo subnet, DescribeSubnet(inputs.settings.subnet));
    BANGER_ASSIGN_OR_RETURN(VmNic nic,
                            AttachNetwork(name, record.ip, inputs.settings, undo, cfg));
    tap = nic.tap;
    char took[32];
    snprintf(took, sizeof took, "%.1f ms", nic.acquire_time.count() / 1000.0);
    progress.Note("tap " + tap + (nic.from_pool ? " from the warm pool in " : " created in ") +
                  took);
    params.address = record.ip + "/" + std::to_string(subnet.prefix);
    params.gateway = nic.gateway;
    // The helper runs a resolver on every bridge it ensures (name_set).
    params.dns = nic.gateway;
    tap_fd = std::move(nic.fd);
  }

  const kernel::KernelBootFiles boot = kernel::BootFiles(inputs.kernel);
  cfg.name = name;
  cfg.vcpus = record.spec.vcpus;
  cfg.memory_bytes = record.spec.memory;
  cfg.kernel = driver.name() == "firecracker" ? boot.vmlinux : boot.vmlinuz;
  if (cfg.kernel.empty())
    return FailedPrecondition("kernel " + Quote(inputs.kernel.spec.name) + " has no image for " +
                              std::string(driver.name()));
  cfg.initrd = boot.initrd;
  cfg.cmdline = KernelCommandLine(params);
  cfg.drives.push_back({"rootfs", rootfs, false, cow_method == "qcow2" ? "qcow2" : "raw"});
  cfg.drives.push_back({"work", files.work_disk, false, "raw"});
  cfg.run_dir = dir;
  cfg.console_log = files.console_log;
  cfg.jailed = inputs.settings.jailer;
  RemoveRunFiles(dir);

  progress.Note("booting with " + std::string(driver.name()));
  const auto t0 = Clock::now();
  BANGER_ASSIGN_OR_RETURN(model::VmHandles handles, driver.Launch(cfg));
  tap_fd.Reset();  // the VMM holds its own copy now
  undo.Add([&driver, handles, this] {
    (void)driver.Shutdown(handles, std::chrono::seconds(2));
  });
  handles.tap = tap;
  handles.mac = cfg.nets.empty() ? "" : cfg.nets[0].mac;
  handles.rootfs = rootfs;
  handles.cow_method = std::string(cow_method);
  handles.work_disk = files.work_disk;
  if (handles.console_log.empty()) handles.console_log = files.console_log;
  const std::string handles_path = options_.paths.handles(name);
  BANGER_RETURN_IF_ERROR(store::WriteHandles(handles_path, handles));
  undo.Add([handles_path] { (void)RemoveTree(handles_path); });

  auto deadline = t0 + options_.boot_timeout;
  BANGER_ASSIGN_OR_RETURN(ConsoleScan scan,
                          WaitForConsoleReady(files.console_log, handles.pid,
                                              handles.pid_start_ticks, deadline,
                                              options_.first_boot_install_timeout));
  if (scan.installing) {
    deadline += options_.first_boot_install_timeout;
    progress.Note("first boot installed an SSH server in the guest");
  }
  progress.Note("guest ready on the console (" + handles.accel + ")");
  HostKeys host_keys = scan.host_keys;
  if (scan.agent && !handles.channel_socket.empty()) {
    // Readiness goes through the agent first; its report of the host keys
    // (read from the files, not from a console shared with the kernel's
    // messages) is what gets pinned.
    BANGER_ASSIGN_OR_RETURN(agentclient::AgentEndpoint endpoint, agentclient::EndpointFor(handles));
    auto health = agentclient::WaitForAgent(endpoint, deadline);
    if (!health.ok()) return std::move(health).error().WithContext("vm " + Quote(name));
    progress.Note("guest agent answers (boot id " + health->boot_id.substr(0, 8) + ")");
    auto reported = agentclient::ReportedHostKeys(endpoint, deadline);
    if (!reported.ok()) return std::move(reported).error().WithContext("vm " + Quote(name));
    if (!reported->empty()) host_keys = std::move(reported).value();
  }
  std::string keys;
  for (const auto& k : host_keys) keys += k + "\n";
  BANGER_RETURN_IF_ERROR(AtomicWriteFile(files.host_keys, keys, 0644));
  if (options_.access && !record.ip.empty()) {
    BANGER_RETURN_IF_ERROR(options_.access->PinHostKeys(name, record.ip, host_keys));
    BANGER_RETURN_IF_ERROR(options_.access->WaitForLogin(name, record.ip, deadline));
    progress.Note("ssh login works");
  }
  if (options_.network && record.spec.nat)
    BANGER_RETURN_IF_ERROR(options_.network->SetNat(record.ip, true, inputs.settings));
  if (options_.network && !record.spec.ports.empty())
    BANGER_RETURN_IF_ERROR(options_.network->SetPorts(name, record.ip, record.spec.ports));
  undo.Dismiss();
  return OkStatus();
}

Status LocalVmRuntime::Stop(const model::VmRecord& record, apply::StepProgress& progress) {
  const std::string name = record.spec.name;
  const std::string handles_path = options_.paths.handles(name);
  BANGER_ASSIGN_OR_RETURN(std::optional<model::VmHandles> handles,
                          store::ReadHandles(handles_path));
  if (!handles) return OkStatus();
  if (ProcessAlive(handles->pid, handles->pid_start_ticks)) {
    vmm::VmmDriver* driver = DriverNamed(handles->vmm);
    if (!driver) return Internal("vm " + Quote(name) + " runs under unknown vmm " + Quote(handles->vmm));
    progress.Note("shutting down");
    // Guests without logind ignore the ACPI power button; asking init
    // first (through the agent, else over SSH) makes the shutdown clean and
    // quick. The driver's own shutdown then waits for the exit (or kills
    // after the grace period).
    Status asked = agentclient::RequestPoweroff(*handles, std::chrono::seconds(2));
    if (!asked.ok() && options_.access && !record.ip.empty())
      (void)options_.access->RequestPoweroff(name, record.ip);
    BANGER_RETURN_IF_ERROR(driver->Shutdown(*handles, options_.stop_grace));
  } else if (!handles->jail.empty()) {
    // Firecracker died on its own; its jail is still there.
    vmm::VmmDriver* driver = DriverNamed(handles->vmm);
    if (!driver) return Internal("vm " + Quote(name) + " ran under unknown vmm " + Quote(handles->vmm));
    BANGER_RETURN_IF_ERROR(driver->Shutdown(*handles, options_.stop_grace));
  }
  if (options_.network) {
    BANGER_RETURN_IF_ERROR(options_.network->RemoveName(name));
    // Cleared whatever the record says: an update may have failed halfway.
    BANGER_RETURN_IF_ERROR(options_.network->SetPorts(name, record.ip, {}));
    if (record.spec.nat && !record.ip.empty()) {
      specs::Settings s;  // NAT rules are keyed by address only
      BANGER_RETURN_IF_ERROR(options_.network->SetNat(record.ip, false, s));
    }
    if (!handles->tap.empty()) BANGER_RETURN_IF_ERROR(options_.network->Detach(handles->tap));
  }
  return RemoveTree(handles_path);
}

Status LocalVmRuntime::Destroy(const model::VmRecord& record, bool keep_work_disk,
                               apply::StepProgress& progress) {
  BANGER_RETURN_IF_ERROR(Stop(record, progress));
  const std::string dir = options_.paths.vm_dir(record.spec.name);
  if (options_.access) BANGER_RETURN_IF_ERROR(options_.access->ForgetHostKeys(record.spec.name));
  if (!keep_work_disk) return RemoveTree(dir);
  auto names = ListDir(dir);
  if (!names.ok()) return names.error().code() == Code::kNotFound ? OkStatus() : names.error();
  for (const auto& n : *names) {
    if (n != "work.ext4") BANGER_RETURN_IF_ERROR(RemoveTree(JoinPath(dir, n)));
  }
  return OkStatus();
}

Status LocalVmRuntime::Update(model::VmRecord& record, const apply::VmInputs& inputs,
                              const std::vector<std::string>& fields,
                              apply::StepProgress& progress) {
  BANGER_ASSIGN_OR_RETURN(model::VmLiveness live, Observe(record.spec.name));
  auto has = [&](const char* f) {
    return std::find(fields.begin(), fields.end(), f) != fields.end();
  };
  // A changed workspace replaces the guest's /root/repo; one that was
  // removed from the spec leaves it as it is.
  const bool reimport = has("workspace") && record.spec.workspace;
  if (reimport && !live.process_running)
    return FailedPrecondition("vm " + Quote(record.spec.name) +
                              " is stopped; its workspace is imported through the guest agent "
                              "(`banger vm start " + record.spec.name + "`, then apply again)");
  std::optional<workspace::ImportPlan> import;
  if (reimport) {
    BANGER_ASSIGN_OR_RETURN(import, workspace::BuildDeclaredImport(runner(), *record.spec.workspace,
                                                                   Home(), HostTempParent()));
  }
  if (!live.process_running) {
    // The disk is not in use: write file_sync content now so the record
    // matches; NAT and ports follow at the next boot.
    if (has("file_sync")) {
      WorkDiskContent content;
      content.home = options_.home;
      content.file_syncs = inputs.file_syncs;
      const std::string work = FilesOf(options_.paths.vm_dir(record.spec.name), false).work_disk;
      BANGER_ASSIGN_OR_RETURN(record.synced, ProvisionWorkDisk(work, content, runner(), progress));
    }
    return OkStatus();
  }
  if (has("nat") && options_.network)
    BANGER_RETURN_IF_ERROR(options_.network->SetNat(record.ip, record.spec.nat, inputs.settings));
  if (has("ports") && options_.network)
    BANGER_RETURN_IF_ERROR(options_.network->SetPorts(record.spec.name, record.ip, record.spec.ports));
  if (has("file_sync")) {
    // Through the guest agent when it answers; SSH for images without one.
    access::SyncRoots roots{options_.home.empty() ? HomeDir() : options_.home, "/root"};
    auto synced = agentclient::SyncFilesThroughAgent(live.handles, inputs.file_syncs, roots,
                                                     kAgentConnectTimeout, progress);
    if (synced.ok()) {
      record.synced = std::move(synced).value();
    } else if (synced.error().code() != Code::kUnavailable || !options_.access) {
      return std::move(synced).error().WithContext("vm " + Quote(record.spec.name));
    } else {
      BANGER_ASSIGN_OR_RETURN(record.synced, options_.access->SyncFiles(record.spec.name, record.ip,
                                                                        inputs.file_syncs, progress));
    }
  }
  if (import)
    BANGER_RETURN_IF_ERROR(SendWorkspace(record, *import, workspace::ExistingRepo::kReplace, progress));
  return OkStatus();
}

std::string LocalVmRuntime::Home() const { return options_.home.empty() ? HomeDir() : options_.home; }

Status LocalVmRuntime::SendWorkspace(const model::VmRecord& record, const workspace::ImportPlan& plan,
                                     workspace::ExistingRepo existing, apply::StepProgress& progress) {
  BANGER_ASSIGN_OR_RETURN(std::optional<model::VmHandles> handles,
                          store::ReadHandles(options_.paths.handles(record.spec.name)));
  if (!handles) return FailedPrecondition("vm " + Quote(record.spec.name) + " has no handles");
  Status st = workspace::SendDeclaredImport(*handles, plan, existing, kWorkspaceAgentTimeout, progress);
  if (!st.ok()) return std::move(st).error().WithContext("vm " + Quote(record.spec.name));
  return OkStatus();
}

Result<model::VmLiveness> LocalVmRuntime::Observe(const std::string& name) {
  model::VmLiveness live;
  BANGER_ASSIGN_OR_RETURN(std::optional<model::VmHandles> handles,
                          store::ReadHandles(options_.paths.handles(name)));
  if (!handles) return live;
  live.has_handles = true;
  live.handles = *handles;
  live.process_running = ProcessAlive(handles->pid, handles->pid_start_ticks);
  live.tap_present = handles->tap.empty() ||
                     (options_.network ? options_.network->TapPresent(handles->tap) : true);
  live.rootfs_present = PathExists(handles->rootfs);
  live.work_disk_present = PathExists(handles->work_disk);
  return live;
}

}  // namespace banger::runtime
