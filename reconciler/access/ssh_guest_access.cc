#include "reconciler/access/ssh_guest_access.h"

#include <thread>

#include "reconciler/access/file_sync.h"
#include "reconciler/access/guest_files.h"
#include "reconciler/access/remote_command.h"
#include "reconciler/access/ssh_dir.h"
#include "reconciler/os/cancel.h"
#include "reconciler/os/fs.h"

namespace banger::access {
namespace {

bool Retryable(const Error& e) {
  return e.code() == Code::kUnavailable || e.code() == Code::kTimeout || e.code() == Code::kIo;
}

}  // namespace

SshGuestAccess::SshGuestAccess(std::string config_dir, CommandRunner& runner,
                               SshAccessOptions options)
    : paths_(SshPaths::ForConfigDir(config_dir)),
      runner_(runner),
      options_(std::move(options)),
      known_hosts_(paths_.known_hosts, paths_.known_hosts_lock) {}

Status SshGuestAccess::PinHostKeys(const std::string& vm, const std::string& ip,
                                   const runtime::HostKeys& keys) {
  return known_hosts_.Pin(vm, ip, keys);
}

Status SshGuestAccess::ForgetHostKeys(const std::string& vm) {
  Status st = known_hosts_.Forget(vm);
  if (!st.ok()) return std::move(st).error().WithContext("forget host keys of vm " + Quote(vm));
  return OkStatus();
}

Result<std::string> SshGuestAccess::AuthorizedKey() { return ManagedAuthorizedKey(paths_, runner_); }

Result<SshSession> SshGuestAccess::Connect(const std::string& vm, const std::string& ip,
                                           std::chrono::milliseconds timeout) {
  BANGER_RETURN_IF_ERROR(EnsureManagedKey(paths_, runner_));
  BANGER_ASSIGN_OR_RETURN(auto pinned, known_hosts_.Pinned(vm));
  return SshSession::Connect({.vm = vm,
                              .ip = ip,
                              .port = options_.port,
                              .pinned = std::move(pinned),
                              .user = "root",
                              .public_key_file = paths_.pub,
                              .private_key_file = paths_.key,
                              .timeout = timeout});
}

Status SshGuestAccess::WaitForLogin(const std::string& vm, const std::string& ip,
                                    std::chrono::steady_clock::time_point deadline) {
  using Clock = std::chrono::steady_clock;
  // Key problems are not worth retrying; surface them before the loop.
  BANGER_RETURN_IF_ERROR(EnsureManagedKey(paths_, runner_));
  for (;;) {
    BANGER_RETURN_IF_ERROR(CheckCancelled("wait for sshd in vm " + Quote(vm)));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto attempt = std::max(std::chrono::milliseconds(50), std::min(left, options_.connect_timeout));
    auto session = Connect(vm, ip, attempt);
    if (session.ok()) return OkStatus();
    if (!Retryable(session.error())) return std::move(session).error();
    if (Clock::now() + options_.retry_interval >= deadline) {
      return Error(Code::kTimeout, "vm " + Quote(vm) + " (" + ip +
                                       "): sshd did not accept banger's key in time; last error: " +
                                       session.error().message());
    }
    std::this_thread::sleep_for(options_.retry_interval);
  }
}

Result<int> SshGuestAccess::Exec(const std::string& vm, const std::string& ip,
                                 const std::vector<std::string>& argv, std::string_view stdin_data,
                                 const OutputSink& out, const OutputSink& err) {
  if (argv.empty()) return InvalidArgument("exec in vm " + Quote(vm) + ": no command given");
  BANGER_ASSIGN_OR_RETURN(SshSession session, Connect(vm, ip, options_.exec_connect_timeout));
  return RunRemote(session, {.command_line = RemoteCommandLine(argv),
                             .stdin_data = stdin_data,
                             .out = out,
                             .err = err,
                             .deadline = std::nullopt});
}

Status SshGuestAccess::RequestPoweroff(const std::string& vm, const std::string& ip) {
  // The guest's poweroff.sh knows its init (systemd or banger's busybox
  // init); images built before it existed have systemd.
  auto code = Exec(vm, ip, {"/usr/lib/banger/poweroff.sh"}, "", nullptr, nullptr);
  const char* what = "/usr/lib/banger/poweroff.sh";
  if (code.ok() && *code == 127) {
    // --no-block: the command returns before sshd goes down with the guest.
    code = Exec(vm, ip, {"systemctl", "poweroff", "--no-block"}, "", nullptr, nullptr);
    what = "systemctl poweroff";
  }
  if (!code.ok()) return code.error();
  if (*code != 0)
    return Error(Code::kIo, "power off vm " + Quote(vm) + ": " + what + " exited " +
                                std::to_string(*code));
  return OkStatus();
}

Result<std::map<std::string, std::string>> SshGuestAccess::SyncFiles(
    const std::string& vm, const std::string& ip, const std::vector<specs::FileSyncSpec>& entries,
    apply::StepProgress& progress) {
  const std::string context = "sync files into vm " + Quote(vm);
  auto session = Connect(vm, ip, options_.connect_timeout);
  if (!session.ok()) return std::move(session).error().WithContext(context);
  std::unique_ptr<GuestFiles> files;
  auto sftp = OpenSftpGuestFiles(*session);
  if (sftp.ok()) {
    files = std::move(sftp).value();
  } else {
    progress.Note("vm " + Quote(vm) + " has no SFTP subsystem; copying with remote commands");
    files = ExecGuestFiles(*session);
  }
  SyncRoots roots{options_.home.empty() ? HomeDir() : options_.home, options_.guest_root};
  auto synced = SyncFileEntries(entries, roots, *files, progress);
  if (!synced.ok()) return std::move(synced).error().WithContext(context);
  return synced;
}

std::vector<std::string> SshGuestAccess::ClientArgv(const std::string& vm, const std::string& ip,
                                                    const std::vector<std::string>& command) const {
  return SshClientArgv(paths_, vm, ip, command, options_.port);
}

Status SshGuestAccess::WriteSshConfig(const std::vector<VmEntry>& vms) {
  return access::WriteSshConfig(paths_, vms, options_.port);
}

}  // namespace banger::access
