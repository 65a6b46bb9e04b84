// Firecracker's side of snapshots, through its API: PATCH /vm to pause and
// resume, PUT /snapshot/create for a full snapshot, and a fresh process
// given PUT /snapshot/load with this VM's taps, vsock socket and drives.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reconciler/os/fs.h"
#include "reconciler/os/process.h"
#include "reconciler/os/unique_fd.h"
#include "reconciler/vmm/firecracker/api_client.h"
#include "reconciler/vmm/firecracker/firecracker_driver.h"

namespace banger::vmm {
namespace {

using std::chrono::milliseconds;

Status RefuseJailed(const std::string& jail, const std::string& what) {
  if (jail.empty()) return OkStatus();
  return FailedPrecondition(what + ": snapshots of VMs under the jailer are not supported "
                                   "(their files live in the root helper's jail); set "
                                   "settings.jailer = false for VMs to snapshot");
}

// Flushes a file Firecracker wrote and returns its size.
Result<uint64_t> SyncedSize(const std::string& path, const std::string& what) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno(what + ": open " + Quote(path));
  if (fsync(fd.get()) != 0) return Error::FromErrno(what + ": fsync " + Quote(path));
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return Error::FromErrno(what + ": stat " + Quote(path));
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace

Status FirecrackerDriver::SendVmState(const model::VmHandles& handles, const ApiRequest& request,
                                      const std::string& what) {
  BANGER_RETURN_IF_ERROR(RefuseJailed(handles.jail, what));
  if (!ProcessAlive(handles.pid, handles.pid_start_ticks))
    return Error(Code::kFailedPrecondition, what + ": the VMM is not running");
  FirecrackerApiClient api(handles.api_socket, options_.request_timeout);
  Status sent = api.Send(request);
  if (!sent.ok()) return std::move(sent).error().WithContext(what);
  return OkStatus();
}

Status FirecrackerDriver::Pause(const model::VmHandles& handles) {
  return SendVmState(handles, PauseVmRequest(),
                     "pause vm (firecracker " + std::to_string(handles.pid) + ")");
}

Status FirecrackerDriver::Resume(const model::VmHandles& handles) {
  return SendVmState(handles, ResumeVmRequest(),
                     "resume vm (firecracker " + std::to_string(handles.pid) + ")");
}

Result<SavedState> FirecrackerDriver::SaveState(const model::VmHandles& handles,
                                                const SnapshotFiles& files,
                                                milliseconds timeout) {
  const std::string what = "save vm state to " + Quote(files.state);
  const auto t0 = std::chrono::steady_clock::now();
  BANGER_RETURN_IF_ERROR(RefuseJailed(handles.jail, what));
  if (files.memory.empty()) return InvalidArgument(what + ": firecracker needs a memory file");
  for (const auto* p : {&files.state, &files.memory}) {
    if (PathExists(*p)) return Error(Code::kAlreadyExists, what + ": " + Quote(*p) + " exists");
  }
  if (!ProcessAlive(handles.pid, handles.pid_start_ticks))
    return Error(Code::kFailedPrecondition, what + ": the VMM is not running");
  auto remove = [&files] {
    (void)unlink(files.state.c_str());
    (void)unlink(files.memory.c_str());
  };
  FirecrackerApiClient api(handles.api_socket, timeout);
  Status sent = api.Send(CreateSnapshotRequest(files.state, files.memory));
  if (!sent.ok()) {
    remove();
    return std::move(sent).error().WithContext(what);
  }
  SavedState saved;
  auto state = SyncedSize(files.state, what);
  auto memory = SyncedSize(files.memory, what);
  if (!state.ok() || !memory.ok()) {
    remove();
    return state.ok() ? std::move(memory).error() : std::move(state).error();
  }
  saved.state_bytes = *state;
  saved.memory_bytes = *memory;
  saved.duration = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0);
  return saved;
}

Result<model::VmHandles> FirecrackerDriver::Restore(const LaunchConfig& config,
                                                    const SnapshotFiles& files,
                                                    milliseconds timeout) {
  const std::string what = "restore vm " + Quote(config.name) + " from " + Quote(files.state);
  if (config.run_dir.empty()) return InvalidArgument(what + ": no run directory");
  if (config.jailed) BANGER_RETURN_IF_ERROR(RefuseJailed(config.name, what));
  if (files.memory.empty()) return InvalidArgument(what + ": firecracker needs a memory file");
  for (const auto* p : {&files.state, &files.memory}) {
    if (!PathExists(*p)) return Error(Code::kNotFound, what + ": " + Quote(*p) + " is missing");
  }
  // Loading maps the memory file and reads the state: each request is
  // bounded by the caller's timeout rather than the boot one.
  auto handles = LaunchUnjailed(
      config,
      [&](const std::string& channel) -> Result<std::vector<ApiRequest>> {
        PathMapper same = [](const std::string& p) { return p; };
        return BuildRestoreRequests(config, files.state, files.memory, channel, same);
      },
      timeout);
  if (!handles.ok()) return std::move(handles).error().WithContext(what);
  return handles;
}

}  // namespace banger::vmm
