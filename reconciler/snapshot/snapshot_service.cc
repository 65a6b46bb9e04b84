#include "reconciler/snapshot/snapshot_service.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <ctime>

#include "reconciler/kernel/digest.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/process.h"
#include "reconciler/os/unique_fd.h"
#include "reconciler/snapshot/snapshot_disks.h"
#include "reconciler/store/handles_file.h"

namespace banger::snapshot {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A 512 MiB guest saves in about a second under TCG; the budget covers
// large guests on slow disks.
constexpr std::chrono::minutes kSaveTimeout(5);

milliseconds Since(Clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t);
}

// The value after `flag` in a process's command line ("" when absent):
// the kernel command line QEMU was started with (-append).
std::string ProcessArgAfter(pid_t pid, const std::string& flag) {
  auto raw = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (!raw.ok()) return "";
  std::vector<std::string> args;
  size_t pos = 0;
  while (pos < raw->size()) {
    size_t nul = raw->find('\0', pos);
    if (nul == std::string::npos) nul = raw->size();
    args.push_back(raw->substr(pos, nul - pos));
    pos = nul + 1;
  }
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == flag) return args[i + 1];
  return "";
}

// Resumes the paused VM on every way out unless disarmed.
class ResumeOnExit {
 public:
  ResumeOnExit(vmm::VmmDriver& driver, const model::VmHandles& handles)
      : driver_(driver), handles_(handles) {}
  ~ResumeOnExit() {
    if (armed_) (void)driver_.Resume(handles_);
  }
  Status ResumeNow() {
    armed_ = false;
    return driver_.Resume(handles_);
  }

 private:
  vmm::VmmDriver& driver_;
  const model::VmHandles& handles_;
  bool armed_ = true;
};

std::string DiskFileName(const std::string& id, const std::string& format) {
  if (id == "rootfs") return format == "qcow2" ? "rootfs.qcow2" : "rootfs.ext4";
  return id + ".ext4";
}

}  // namespace

SnapshotService::SnapshotService(store::StatePaths paths, runtime::LocalVmRuntime& vms,
                                 CommandRunner& runner)
    : paths_(std::move(paths)), vms_(vms), runner_(runner) {}

Result<TakeReport> SnapshotService::Take(const model::VmRecord& vm, const apply::VmInputs& inputs,
                                         const std::string& name, apply::StepProgress& progress) {
  const auto t_start = Clock::now();
  const std::string what = "snapshot vm " + Quote(vm.spec.name);
  BANGER_RETURN_IF_ERROR(CheckSnapshotName(name));
  const std::string final_dir = SnapshotDir(paths_, name);
  if (PathExists(final_dir)) return Error(Code::kAlreadyExists, "snapshot " + Quote(name) + " exists");
  BANGER_ASSIGN_OR_RETURN(std::optional<model::VmHandles> found,
                          store::ReadHandles(paths_.handles(vm.spec.name)));
  if (!found || !ProcessAlive(found->pid, found->pid_start_ticks))
    return FailedPrecondition(what + ": it is not running (start it first)");
  const model::VmHandles h = *found;
  vmm::VmmDriver* driver = vms_.DriverNamed(h.vmm);
  if (!driver) return Internal(what + ": no driver for vmm " + Quote(h.vmm));
  vmm::DriverProbe probe = driver->Probe();
  if (!probe.available) return Error(Code::kUnavailable, what + ": " + probe.detail);

  model::SnapshotMeta meta;
  meta.name = name;
  meta.source_vm = vm.spec.name;
  meta.created_unix = static_cast<int64_t>(time(nullptr));
  meta.vmm = h.vmm;
  meta.vmm_binary = probe.binary;
  meta.vmm_version = probe.version;
  meta.machine = driver->MachineType();
  meta.accel = h.accel;
  meta.kernel_name = inputs.kernel.spec.name;
  meta.kernel_digest = vm.kernel_digest.empty() ? inputs.kernel.digest : vm.kernel_digest;
  meta.image_name = inputs.image.spec.name;
  meta.image_digest = vm.image_digest;
  meta.memory_bytes = vm.spec.memory;
  meta.vcpus = vm.spec.vcpus;
  if (h.vmm == "qemu") meta.cmdline = ProcessArgAfter(h.pid, "-append");
  meta.channel = !h.channel_socket.empty();
  meta.mac = h.mac;
  meta.ip = vm.ip;
  if (h.vmm == "firecracker") meta.memory_file = "memory";

  BANGER_ASSIGN_OR_RETURN(OwnedDir staging, OwnedDir::Create(paths_.staging_dir(), kStagingPrefix));
  BANGER_RETURN_IF_ERROR(WriteSource(staging.path(), vm.spec.name, h));
  const vmm::SnapshotFiles files{
      JoinPath(staging.path(), meta.state_file),
      meta.memory_file.empty() ? "" : JoinPath(staging.path(), meta.memory_file)};

  progress.Note("pausing " + std::string(h.vmm));
  const auto t_pause = Clock::now();
  BANGER_RETURN_IF_ERROR(driver->Pause(h));
  ResumeOnExit resume(*driver, h);
  auto saved = driver->SaveState(h, files, kSaveTimeout);
  if (!saved.ok()) return std::move(saved).error().WithContext(what);
  // The disks as of the saved instant: nothing writes them while paused,
  // and QEMU flushed its caches (qcow2 metadata included) at the end of
  // the save.
  const std::string rootfs_format = h.cow_method == "qcow2" ? "qcow2" : "raw";
  for (const auto& [id, src, format] :
       {std::tuple<std::string, std::string, std::string>{"rootfs", h.rootfs, rootfs_format},
        {"work", h.work_disk, "raw"}}) {
    if (src.empty()) return Internal(what + ": handles name no " + id + " disk");
    auto disk = CopyDisk(src, id, format, staging.path(), DiskFileName(id, format));
    if (!disk.ok()) return std::move(disk).error().WithContext(what);
    meta.disks.push_back(std::move(disk).value());
  }
  Status resumed = resume.ResumeNow();
  const milliseconds paused = Since(t_pause);
  if (!resumed.ok()) return std::move(resumed).error().WithContext(what + ": state saved, but");
  progress.Note("resumed after " + std::to_string(paused.count()) + " ms paused");

  meta.state_bytes = saved->state_bytes;
  meta.memory_file_bytes = saved->memory_bytes;
  meta.save_ms = paused.count();
  BANGER_ASSIGN_OR_RETURN(meta.state_sha256, kernel::FileSha256(files.state));
  BANGER_RETURN_IF_ERROR(WriteMeta(staging.path(), meta));
  BANGER_RETURN_IF_ERROR(RemoveTree(JoinPath(staging.path(), kSourceFile)));
  Status published = Publish(staging, final_dir);
  if (!published.ok()) {
    if (published.error().code() == Code::kAlreadyExists)
      return Error(Code::kAlreadyExists, "snapshot " + Quote(name) + " exists");
    return std::move(published).error();
  }
  TakeReport report;
  report.record.meta = std::move(meta);
  report.record.origin = model::Origin::kCli;
  report.record.dir = final_dir;
  BANGER_ASSIGN_OR_RETURN(report.usage, MeasureDir(final_dir));
  report.paused = paused;
  report.total = Since(t_start);
  return report;
}

Result<RestoreHost> SnapshotService::HostFor(const model::VmRecord& vm,
                                             const apply::VmInputs& inputs) {
  BANGER_ASSIGN_OR_RETURN(vmm::VmmDriver * driver, vms_.ChooseDriver(inputs.settings));
  vmm::DriverProbe probe = driver->Probe();
  RestoreHost host;
  host.vmm = std::string(driver->name());
  host.vmm_version = probe.version;
  host.machine = driver->MachineType();
  host.accel = probe.accel;
  host.kernel_digest = inputs.kernel.digest;
  host.memory_bytes = vm.spec.memory;
  host.vcpus = vm.spec.vcpus;
  return host;
}

Status SnapshotService::CheckStateFile(const model::SnapshotMeta& meta, const std::string& dir) {
  const std::string state = JoinPath(dir, meta.state_file);
  BANGER_ASSIGN_OR_RETURN(SpaceUsage usage, MeasureFile(state));
  if (usage.apparent != meta.state_bytes) {
    return Error(Code::kCorruption, "state file " + Quote(state) + " has " +
                                        std::to_string(usage.apparent) + " bytes, the snapshot wrote " +
                                        std::to_string(meta.state_bytes) + " (truncated or replaced)");
  }
  BANGER_ASSIGN_OR_RETURN(std::string digest, kernel::FileSha256(state));
  if (digest != meta.state_sha256) {
    return Error(Code::kCorruption, "state file " + Quote(state) +
                                        " does not have the digest the snapshot recorded (damaged)");
  }
  if (!meta.memory_file.empty()) {
    const std::string memory = JoinPath(dir, meta.memory_file);
    BANGER_ASSIGN_OR_RETURN(SpaceUsage mem, MeasureFile(memory));
    if (mem.apparent != meta.memory_file_bytes) {
      return Error(Code::kCorruption, "memory file " + Quote(memory) + " has " +
                                          std::to_string(mem.apparent) + " bytes, the snapshot wrote " +
                                          std::to_string(meta.memory_file_bytes));
    }
  }
  return OkStatus();
}

Result<PreparedRestore> SnapshotService::Prepare(const model::VmRecord& vm,
                                                 const apply::VmInputs& inputs,
                                                 const model::SnapshotRecord& snapshot,
                                                 const std::string& what) {
  const model::SnapshotMeta& meta = snapshot.meta;
  BANGER_ASSIGN_OR_RETURN(RestoreHost host, HostFor(vm, inputs));
  Status compatible = CheckCompatible(meta, host);
  if (!compatible.ok()) return std::move(compatible).error().WithContext(what);
  Status files_ok = [&]() -> Status {
    BANGER_RETURN_IF_ERROR(CheckStateFile(meta, snapshot.dir));
    for (const auto& d : meta.disks) BANGER_RETURN_IF_ERROR(CheckDiskFiles(d, snapshot.dir));
    return OkStatus();
  }();
  if (!files_ok.ok()) return std::move(files_ok).error().WithContext(what + " (vm left as it was)");

  const std::string vm_dir = paths_.vm_dir(vm.spec.name);
  PreparedRestore out;
  runtime::SavedMachine& machine = out.machine;
  machine.vmm = meta.vmm;
  machine.files.state = JoinPath(snapshot.dir, meta.state_file);
  if (!meta.memory_file.empty()) machine.files.memory = JoinPath(snapshot.dir, meta.memory_file);
  machine.cmdline = meta.cmdline;
  machine.channel = meta.channel;
  for (const auto& d : meta.disks) {
    const std::string final_path = JoinPath(vm_dir, DiskFileName(d.id, d.format));
    auto staged = disk::StagedFile::Create(final_path);
    if (!staged.ok()) return std::move(staged).error().WithContext(what);
    auto format = MakeDiskFromSnapshot(d, snapshot.dir, *staged, runner_);
    if (!format.ok()) return std::move(format).error().WithContext(what + " (vm left as it was)");
    machine.drives.push_back({d.id, final_path, false, *format});
    out.disks.push_back(std::move(staged).value());
  }
  return out;
}

Result<RestoreReport> SnapshotService::Restore(model::VmRecord& vm, const apply::VmInputs& inputs,
                                               const model::SnapshotRecord& snapshot,
                                               apply::StepProgress& progress,
                                               bool* disks_replaced) {
  const auto t_start = Clock::now();
  *disks_replaced = false;
  const model::SnapshotMeta& meta = snapshot.meta;
  const std::string name = vm.spec.name;
  const std::string what = "restore vm " + Quote(name) + " from snapshot " + Quote(meta.name);
  if (meta.source_vm != name) {
    return FailedPrecondition(what + ": it is a snapshot of vm " + Quote(meta.source_vm) +
                              "; a VM is restored only from its own snapshots (a VM started "
                              "from another VM's snapshot is a clone)");
  }
  // The new disks are made beside the old ones first, so any failure up to
  // here leaves the VM untouched.
  const std::string vm_dir = paths_.vm_dir(name);
  BANGER_ASSIGN_OR_RETURN(PreparedRestore prepared, Prepare(vm, inputs, snapshot, what));
  std::vector<disk::StagedFile>& staged = prepared.disks;
  runtime::SavedMachine& machine = prepared.machine;
  progress.Note("disks made from the snapshot");

  // From here the VM's running state is given up for the snapshot's. Its
  // VMM is killed rather than shut down: its disks are replaced anyway.
  BANGER_ASSIGN_OR_RETURN(std::optional<model::VmHandles> running,
                          store::ReadHandles(paths_.handles(name)));
  if (running && running->jail.empty() && ProcessAlive(running->pid, running->pid_start_ticks)) {
    progress.Note("stopping its VMM");
    BANGER_RETURN_IF_ERROR(KillProcess(running->pid, running->pid_start_ticks));
  }
  BANGER_RETURN_IF_ERROR(vms_.Stop(vm, progress));
  const std::string stopped =
      "; vm " + Quote(name) + " is stopped, its disks are the snapshot's (`banger vm start " +
      name + "` boots them)";
  for (auto& s : staged) {
    // A rootfs of the other format (qcow2 vs raw) would be found first by
    // a later start.
    if (Basename(s.final_path()).rfind("rootfs.", 0) == 0) {
      for (const char* other : {"rootfs.qcow2", "rootfs.ext4"})
        if (JoinPath(vm_dir, other) != s.final_path()) (void)RemoveTree(JoinPath(vm_dir, other));
    }
    Status committed = s.Commit(disk::StagedFile::Replace::kAllowed);
    if (committed.ok()) *disks_replaced = true;
    if (!committed.ok()) {
      return std::move(committed).error().WithContext(what + " (vm " + Quote(name) +
                                                      " is stopped; some of its disks are "
                                                      "the snapshot's)");
    }
  }
  auto boot_id = vms_.RestoreBoot(vm, inputs, machine, progress);
  if (!boot_id.ok()) {
    Error e = std::move(boot_id).error().WithContext(what);
    return Error(e.code(), e.message() + stopped);
  }
  RestoreReport report;
  report.boot_id = *boot_id;
  report.total = Since(t_start);
  return report;
}

Status SnapshotService::Remove(const model::SnapshotRecord& snapshot) {
  return RemoveSnapshotDir(paths_, snapshot.dir.empty() ? SnapshotDir(paths_, snapshot.meta.name)
                                                        : snapshot.dir);
}

std::vector<std::string> SnapshotService::ResumeAbandoned() {
  std::vector<std::string> resumed;
  auto names = ListDir(paths_.staging_dir());
  if (!names.ok()) return resumed;
  for (const std::string& n : *names) {
    const pid_t owner = OwnerPid(n, kStagingPrefix);
    if (owner <= 0) continue;
    if (kill(owner, 0) == 0 || errno == EPERM) continue;  // its process lives
    const std::string dir = JoinPath(paths_.staging_dir(), n);
    UniqueFd lock(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!lock.valid() || flock(lock.get(), LOCK_EX | LOCK_NB) != 0) continue;
    auto source = ReadSource(dir);
    if (!source.ok()) continue;  // died before pausing anything
    const model::VmHandles& h = source->second;
    if (!ProcessAlive(h.pid, h.pid_start_ticks)) continue;
    vmm::VmmDriver* driver = vms_.DriverNamed(h.vmm);
    if (driver && driver->Resume(h).ok()) resumed.push_back(source->first);
  }
  return resumed;
}

std::vector<model::SnapshotRecord> SnapshotService::Unrecorded(const model::StoreSnapshot& snap) {
  std::vector<model::SnapshotRecord> out;
  auto names = ListDir(SnapshotsDir(paths_));
  if (!names.ok()) return out;
  for (const std::string& n : *names) {
    if (snap.snapshots.count(n) || !CheckSnapshotName(n).ok()) continue;
    const std::string dir = SnapshotDir(paths_, n);
    auto meta = ReadMeta(dir);
    if (!meta.ok() || meta->name != n) continue;
    model::SnapshotRecord r;
    r.meta = std::move(meta).value();
    r.origin = model::Origin::kCli;
    r.dir = dir;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace banger::snapshot
