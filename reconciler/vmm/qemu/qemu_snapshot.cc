// QEMU's side of snapshots: pause/resume over QMP, the state saved as one
// migration stream into a file banger opened, and restored by a QEMU that
// waits for it (-incoming defer) and reads it from an inherited descriptor.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "reconciler/os/fs.h"
#include "reconciler/os/process.h"
#include "reconciler/os/unique_fd.h"
#include "reconciler/vmm/qemu/qemu_driver.h"
#include "reconciler/vmm/qemu/qmp_client.h"

namespace banger::vmm {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using nlohmann::json;

constexpr const char* kSaveFdName = "banger-state";
constexpr milliseconds kPoll(20);

Result<QmpClient> ConnectTo(const model::VmHandles& handles, const std::string& what) {
  if (!ProcessAlive(handles.pid, handles.pid_start_ticks))
    return Error(Code::kFailedPrecondition, what + ": the VMM is not running");
  auto qmp = QmpClient::Connect(handles.api_socket, std::chrono::seconds(5));
  if (!qmp.ok()) return std::move(qmp).error().WithContext(what);
  return qmp;
}

// The description QEMU gives a failed migration, else its status.
std::string MigrateFailure(const json& info) {
  if (info.contains("error-desc") && info["error-desc"].is_string())
    return info["error-desc"].get<std::string>();
  return "migration " + info.value("status", std::string("failed"));
}

// Polls query-migrate until the outgoing migration completed, failed, or
// the deadline passed (then cancels it).
Status WaitForMigration(QmpClient& qmp, Clock::time_point deadline, const std::string& what) {
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(json info, qmp.Execute("query-migrate"));
    const std::string status = info.value("status", std::string());
    if (status == "completed") return OkStatus();
    if (status == "failed" || status == "cancelled")
      return Error(Code::kIo, what + ": " + MigrateFailure(info));
    if (Clock::now() >= deadline) {
      (void)qmp.Execute("migrate_cancel");
      return Error(Code::kTimeout, what + ": not complete in time (status " +
                                       Quote(status.empty() ? "none" : status) + ")");
    }
    std::this_thread::sleep_for(kPoll);
  }
}

uint64_t FileSize(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

}  // namespace

Status QemuDriver::Pause(const model::VmHandles& handles) {
  const std::string what = "pause vm (qemu " + std::to_string(handles.pid) + ")";
  BANGER_ASSIGN_OR_RETURN(QmpClient qmp, ConnectTo(handles, what));
  auto r = qmp.Execute("stop");
  if (!r.ok()) return std::move(r).error().WithContext(what);
  return OkStatus();
}

Status QemuDriver::Resume(const model::VmHandles& handles) {
  const std::string what = "resume vm (qemu " + std::to_string(handles.pid) + ")";
  BANGER_ASSIGN_OR_RETURN(QmpClient qmp, ConnectTo(handles, what));
  // A save whose banger died may still be writing: it is cancelled first
  // (cont would not run a guest that is being migrated).
  for (auto deadline = Clock::now() + std::chrono::seconds(10);;) {
    BANGER_ASSIGN_OR_RETURN(json info, qmp.Execute("query-migrate"));
    const std::string status = info.value("status", std::string());
    if (status != "setup" && status != "active" && status != "device" &&
        status != "cancelling" && status != "pre-switchover")
      break;
    if (Clock::now() >= deadline)
      return Error(Code::kTimeout, what + ": a save in progress did not stop");
    if (status != "cancelling") (void)qmp.Execute("migrate_cancel");
    std::this_thread::sleep_for(kPoll);
  }
  // After a completed save QEMU is in "postmigrate" with its disks handed
  // over; cont takes them back and runs the guest.
  auto r = qmp.Execute("cont");
  if (!r.ok()) return std::move(r).error().WithContext(what);
  BANGER_ASSIGN_OR_RETURN(std::string status, qmp.QueryStatus());
  if (status != "running")
    return Error(Code::kFailedPrecondition, what + ": status is " + Quote(status) + " after cont");
  return OkStatus();
}

Result<SavedState> QemuDriver::SaveState(const model::VmHandles& handles,
                                         const SnapshotFiles& files, milliseconds timeout) {
  const std::string what = "save vm state to " + Quote(files.state);
  const auto t0 = Clock::now();
  if (!files.memory.empty())
    return InvalidArgument(what + ": qemu keeps memory in the state stream; no memory file");
  BANGER_ASSIGN_OR_RETURN(QmpClient qmp, ConnectTo(handles, what));
  BANGER_ASSIGN_OR_RETURN(std::string status, qmp.QueryStatus());
  if (status != "paused" && status != "postmigrate")
    return Error(Code::kFailedPrecondition, what + ": the VM is " + Quote(status) + ", not paused");

  UniqueFd out(open(files.state.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out.valid()) return Error::FromErrno(what + ": create");
  // Whatever fails below, no partial state file stays behind.
  bool keep = false;
  struct Remove {
    const std::string& path;
    bool& keep;
    ~Remove() {
      if (!keep) (void)unlink(path.c_str());
    }
  } remove{files.state, keep};

  // QEMU throttles migration to 32 MiB/s by default (to spare a live
  // guest's network); a paused guest writing to a local file has nothing
  // to spare.
  auto params = qmp.Execute("migrate-set-parameters", json{{"max-bandwidth", int64_t{1} << 40}});
  if (!params.ok()) return std::move(params).error().WithContext(what);
  auto fd = qmp.ExecuteWithFd("getfd", json{{"fdname", kSaveFdName}}, out.get());
  if (!fd.ok()) return std::move(fd).error().WithContext(what);
  auto started = qmp.Execute("migrate", json{{"uri", std::string("fd:") + kSaveFdName}});
  if (!started.ok()) {
    (void)qmp.Execute("closefd", json{{"fdname", kSaveFdName}});
    return std::move(started).error().WithContext(what);
  }
  BANGER_RETURN_IF_ERROR(WaitForMigration(qmp, t0 + timeout, what));
  if (fsync(out.get()) != 0) return Error::FromErrno(what + ": fsync");
  SavedState saved;
  saved.state_bytes = FileSize(out.get());
  saved.duration = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  keep = true;
  return saved;
}

Result<model::VmHandles> QemuDriver::Restore(const LaunchConfig& config,
                                             const SnapshotFiles& files, milliseconds timeout) {
  const std::string what = "restore vm " + Quote(config.name) + " from " + Quote(files.state);
  if (!files.memory.empty())
    return InvalidArgument(what + ": qemu keeps memory in the state stream; no memory file");
  UniqueFd in(open(files.state.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return Error::FromErrno(what + ": open");
  if (FileSize(in.get()) == 0) return Error(Code::kCorruption, what + ": the state file is empty");

  bool forced = false;
  BANGER_ASSIGN_OR_RETURN(QemuHostPlan plan, PlanLaunch(config, &forced));
  plan.incoming = true;
  const int state_fd = in.get();
  AfterStart load = [&](VmmProcess& process, const QemuHostPlan& p) -> Status {
    BANGER_ASSIGN_OR_RETURN(QmpClient qmp, QmpClient::Connect(p.qmp_socket, std::chrono::seconds(5)));
    auto started = qmp.Execute("migrate-incoming",
                               json{{"uri", "fd:" + std::to_string(state_fd)}});
    if (!started.ok()) return std::move(started).error();
    // QEMU 7.2 exits when an incoming stream does not load (truncated,
    // corrupted, other devices or version); one that stalls is ended by
    // the deadline, and the caller's VmmProcess kills it.
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (!process.Alive())
        return Error(Code::kCorruption, "the saved state did not load: " + process.DescribeExit());
      auto status = qmp.QueryStatus();
      if (!status.ok()) {
        if (!process.Alive()) continue;  // reported above with QEMU's reason
        return std::move(status).error();
      }
      if (*status == "paused") break;
      if (*status != "inmigrate")
        return Error(Code::kCorruption, "unexpected status " + Quote(*status) + " while loading");
      if (Clock::now() >= deadline)
        return Error(Code::kTimeout, "the saved state did not load within " +
                                         std::to_string(timeout.count()) + " ms");
      std::this_thread::sleep_for(kPoll);
    }
    auto cont = qmp.Execute("cont");
    if (!cont.ok()) return std::move(cont).error();
    return OkStatus();
  };
  auto handles = LaunchWith(config, plan, {state_fd}, load);
  if (!handles.ok()) return std::move(handles).error().WithContext(what);
  return handles;
}

}  // namespace banger::vmm
