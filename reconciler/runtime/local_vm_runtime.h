// The VM runtime on this host: per-VM disks, network, the VMM process and
// readiness, composed from the disk, vmm, net and access pieces.
//
// Each VM lives in <state>/vms/<name>/: rootfs.qcow2|rootfs.ext4 (its
// copy-on-write root), work.ext4 (/root), console.log, host_keys, the VMM's
// sockets, and handles.json while it runs. Create and Start undo what they
// did when they fail, so a failed step leaves no process, tap or disk
// behind (a kept work disk excepted).
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

#include "guest/agent/protocol/messages.h"
#include "reconciler/apply/effects.h"
#include "reconciler/os/exec.h"
#include "reconciler/runtime/vm_services.h"
#include "reconciler/store/state_dir.h"
#include "reconciler/vmm/driver.h"
#include "reconciler/workspace/declared_workspace.h"

namespace banger::runtime {

class Undo;

// What a VM continues from instead of booting (vmm::VmmDriver::Restore):
// saved state and the machine it was saved on, with the disks this VM runs
// on now.
struct SavedMachine {
  std::string vmm;                       // the driver that saved it
  vmm::SnapshotFiles files;
  std::string cmdline;                   // the kernel command line it booted with
  bool channel = true;                   // it has the agent's channel device
  std::vector<vmm::DriveConfig> drives;  // ids and order as saved, this VM's paths
  // Saved from another VM (a clone): the guest agent gives the guest this
  // VM's hostname, MAC, address and new host keys before it counts as up.
  bool reidentify = false;
  // The clone's SSH host key pairs, being made while the state loads
  // (access::MakeGuestHostKeys); not valid(): made when needed.
  std::shared_future<Result<std::vector<agent::HostKeyPair>>> host_keys;
};

// The sockets and logs of a VM's run in its directory, removed before a start.
void RemoveRunFiles(const std::string& vm_dir);

struct VmRuntimeOptions {
  store::StatePaths paths{""};
  std::string home;                       // for `~` in file_sync host paths
  CommandRunner* runner = nullptr;        // null: the system runner
  std::vector<std::unique_ptr<vmm::VmmDriver>> drivers;  // qemu, firecracker
  std::unique_ptr<VmNetwork> network;     // null: VMs boot without a NIC
  std::unique_ptr<GuestAccess> access;    // null: ready = console marker
  std::chrono::seconds boot_timeout{180};
  // Added to boot_timeout when the guest's first boot installs an SSH
  // server with its package manager.
  std::chrono::seconds first_boot_install_timeout{900};
  std::chrono::seconds stop_grace{20};
};

class LocalVmRuntime : public apply::VmRuntime {
 public:
  explicit LocalVmRuntime(VmRuntimeOptions options);

  Status Create(model::VmRecord& record, const apply::VmInputs& inputs,
                apply::StepProgress& progress) override;
  Status Start(model::VmRecord& record, const apply::VmInputs& inputs,
               apply::StepProgress& progress) override;
  Status Stop(const model::VmRecord& record, apply::StepProgress& progress) override;
  Status Destroy(const model::VmRecord& record, bool keep_work_disk,
                 apply::StepProgress& progress) override;
  Status Update(model::VmRecord& record, const apply::VmInputs& inputs,
                const std::vector<std::string>& fields, apply::StepProgress& progress) override;
  Result<model::VmLiveness> Observe(const std::string& name) override;

  // Starts the VM from saved state rather than booting it: a tap for
  // record.ip and its name as a boot gets them, the driver's Restore with
  // `machine`, handles.json, then the guest agent's health (an SSH login
  // when the guest has no agent) and the host keys it reports pinned. With
  // machine.reidentify the agent first re-identifies the guest (clones).
  // Returns the guest's boot id ("" without an agent). On failure nothing
  // of it is left running and its tap is gone. The caller has put the
  // disks in place and holds the VM's lock.
  Result<std::string> RestoreBoot(model::VmRecord& record, const apply::VmInputs& inputs,
                                  const SavedMachine& machine, apply::StepProgress& progress);

  // The driver `settings.vmm` selects ("auto": Firecracker when it can run
  // here, else QEMU).
  Result<vmm::VmmDriver*> ChooseDriver(const specs::Settings& settings);
  vmm::VmmDriver* DriverNamed(std::string_view name);
  GuestAccess* access() { return options_.access.get(); }
  VmNetwork* network() { return options_.network.get(); }

 private:
  Status Boot(model::VmRecord& record, const apply::VmInputs& inputs, vmm::VmmDriver& driver,
              const std::string& rootfs, std::string_view cow_method,
              apply::StepProgress& progress);
  // Takes the VM's tap and its `<vm>.vm` name (both undone by `undo` on a
  // failed start) and adds the NIC to `cfg.nets`; the tap's fd stays open
  // in the returned nic until the VMM has inherited it.
  Result<VmNic> AttachNetwork(const std::string& name, const std::string& ip,
                              const specs::Settings& settings, Undo& undo,
                              vmm::LaunchConfig& cfg);
  CommandRunner& runner() { return options_.runner ? *options_.runner : SystemRunner(); }
  std::string Home() const;
  Status SendWorkspace(const model::VmRecord& record, const workspace::ImportPlan& plan,
                       workspace::ExistingRepo existing, apply::StepProgress& progress);

  VmRuntimeOptions options_;
  std::mutex probe_mu_;
};

}  // namespace banger::runtime
