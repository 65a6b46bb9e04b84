// Starting a VM from saved state (LocalVmRuntime::RestoreBoot): the same
// network, handles and readiness as a boot, without the kernel. There is
// no console marker to wait for (the guest printed it when it first
// booted); readiness is the guest agent answering, else an SSH login.
#include <sys/random.h>

#include <cstdio>

#include "reconciler/access/ssh_dir.h"
#include "reconciler/agent/agent_client.h"
#include "reconciler/kernel/file_kernel_store.h"
#include "reconciler/os/fs.h"
#include "reconciler/runtime/boot_config.h"
#include "reconciler/runtime/local_vm_runtime.h"
#include "reconciler/runtime/undo.h"
#include "reconciler/store/handles_file.h"

namespace banger::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// Saved state loads in about a second; the rest of the budget is for a
// busy host.
constexpr std::chrono::seconds kLoadTimeout(120);

// The guest's SSH host keys as last recorded for the VM (one per line).
HostKeys RecordedHostKeys(const std::string& path) {
  HostKeys keys;
  auto text = ReadFile(path);
  if (!text.ok()) return keys;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t nl = text->find('\n', pos);
    if (nl == std::string::npos) nl = text->size();
    if (nl > pos) keys.push_back(text->substr(pos, nl - pos));
    pos = nl + 1;
  }
  return keys;
}

// What makes a restored copy of another VM this VM: its name, the MAC of
// its own NIC, its address, and fresh randomness (the saved memory holds
// the source's RNG state).
Result<agent::Reidentify> IdentityFor(const std::string& name, const std::string& mac,
                                      const std::string& ip, const std::string& gateway,
                                      const specs::Settings& settings) {
  agent::Reidentify r;
  r.hostname = name;
  r.mac = mac;
  if (!ip.empty()) {
    BANGER_ASSIGN_OR_RETURN(SubnetInfo subnet, DescribeSubnet(settings.subnet));
    r.address = ip + "/" + std::to_string(subnet.prefix);
    r.gateway = gateway;
    r.dns = gateway;  // the helper runs a resolver on every bridge
  }
  r.seed.resize(64);
  if (getrandom(r.seed.data(), r.seed.size(), 0) != static_cast<ssize_t>(r.seed.size()))
    return Error::FromErrno("getrandom");
  return r;
}

}  // namespace

Result<std::string> LocalVmRuntime::RestoreBoot(model::VmRecord& record,
                                                const apply::VmInputs& inputs,
                                                const SavedMachine& machine,
                                                apply::StepProgress& progress) {
  const std::string name = record.spec.name;
  const std::string vm = "vm " + Quote(name);
  vmm::VmmDriver* driver = DriverNamed(machine.vmm);
  if (!driver) return FailedPrecondition(vm + ": no driver for vmm " + Quote(machine.vmm));
  const std::string dir = options_.paths.vm_dir(name);
  VmFiles files = FilesOf(dir, false);
  Undo undo;

  vmm::LaunchConfig cfg;
  std::string tap, gateway;
  UniqueFd tap_fd;
  if (options_.network) {
    BANGER_ASSIGN_OR_RETURN(VmNic nic,
                            AttachNetwork(name, record.ip, inputs.settings, undo, cfg));
    tap = nic.tap;
    gateway = nic.gateway;
    tap_fd = std::move(nic.fd);
  }
  const kernel::KernelBootFiles boot = kernel::BootFiles(inputs.kernel);
  cfg.name = name;
  cfg.vcpus = record.spec.vcpus;
  cfg.memory_bytes = record.spec.memory;
  cfg.kernel = driver->name() == "firecracker" ? boot.vmlinux : boot.vmlinuz;
  cfg.initrd = boot.initrd;
  cfg.cmdline = machine.cmdline;
  cfg.drives = machine.drives;
  cfg.run_dir = dir;
  cfg.console_log = files.console_log;
  cfg.want_channel = machine.channel;
  RemoveRunFiles(dir);

  progress.Note("restoring with " + std::string(driver->name()));
  const auto t0 = Clock::now();
  BANGER_ASSIGN_OR_RETURN(model::VmHandles handles, driver->Restore(cfg, machine.files, kLoadTimeout));
  tap_fd.Reset();  // the VMM holds its own copy now
  undo.Add([driver, handles] { (void)driver->Shutdown(handles, std::chrono::seconds(0)); });
  char took[48];
  snprintf(took, sizeof took, "state loaded in %.2f s",
           std::chrono::duration<double>(Clock::now() - t0).count());
  progress.Note(took);
  handles.tap = tap;
  handles.mac = cfg.nets.empty() ? "" : cfg.nets[0].mac;
  handles.rootfs = cfg.drives.empty() ? "" : cfg.drives[0].path;
  handles.cow_method = cfg.drives.empty() ? "" : cfg.drives[0].format;
  for (const auto& d : cfg.drives)
    if (d.id == "work") handles.work_disk = d.path;
  if (handles.console_log.empty()) handles.console_log = files.console_log;
  const std::string handles_path = options_.paths.handles(name);
  BANGER_RETURN_IF_ERROR(store::WriteHandles(handles_path, handles));
  undo.Add([handles_path] { (void)RemoveTree(handles_path); });

  const auto deadline = Clock::now() + options_.boot_timeout;
  std::string boot_id;
  HostKeys host_keys = RecordedHostKeys(files.host_keys);
  if (machine.channel && !handles.channel_socket.empty()) {
    BANGER_ASSIGN_OR_RETURN(agentclient::AgentEndpoint endpoint, agentclient::EndpointFor(handles));
    auto health = agentclient::WaitForAgent(endpoint, deadline);
    if (!health.ok()) return std::move(health).error().WithContext(vm + ": after the restore");
    boot_id = health->boot_id;
    progress.Note("guest agent answers (boot id " + boot_id.substr(0, 8) + ")");
    if (machine.reidentify) {
      BANGER_ASSIGN_OR_RETURN(agent::Reidentify identity,
                              IdentityFor(name, handles.mac, options_.network ? record.ip : "",
                                          gateway, inputs.settings));
      BANGER_ASSIGN_OR_RETURN(identity.host_keys,
                              machine.host_keys.valid()
                                  ? machine.host_keys.get()
                                  : access::MakeGuestHostKeys(name, dir, runner()));
      BANGER_ASSIGN_OR_RETURN(agentclient::AgentClient client,
                              agentclient::AgentClient::Connect(endpoint, deadline));
      auto keys = client.Reidentify(identity, deadline);
      if (!keys.ok()) return std::move(keys).error().WithContext(vm + ": re-identify the restored guest");
      host_keys = std::move(keys).value();
      progress.Note("re-identified as " + name +
                    (identity.address.empty() ? "" : " (" + identity.address + ")") +
                    ", new host keys");
    } else {
      auto reported = agentclient::ReportedHostKeys(endpoint, deadline);
      if (!reported.ok()) return std::move(reported).error().WithContext(vm);
      if (!reported->empty()) host_keys = std::move(reported).value();
    }
    std::string keys;
    for (const auto& k : host_keys) keys += k + "\n";
    BANGER_RETURN_IF_ERROR(AtomicWriteFile(files.host_keys, keys, 0644));
  }
  if (options_.access && !record.ip.empty()) {
    BANGER_RETURN_IF_ERROR(options_.access->PinHostKeys(name, record.ip, host_keys));
    if (boot_id.empty()) {
      BANGER_RETURN_IF_ERROR(options_.access->WaitForLogin(name, record.ip, deadline));
      progress.Note("ssh login works");
    }
  }
  if (options_.network && record.spec.nat)
    BANGER_RETURN_IF_ERROR(options_.network->SetNat(record.ip, true, inputs.settings));
  if (options_.network && !record.spec.ports.empty())
    BANGER_RETURN_IF_ERROR(options_.network->SetPorts(name, record.ip, record.spec.ports));
  undo.Dismiss();
  return boot_id;
}

}  // namespace banger::runtime
