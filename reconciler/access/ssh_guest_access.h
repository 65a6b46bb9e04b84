// runtime::GuestAccess over SSH: banger's managed key, host keys pinned from
// the console, libssh2 for readiness, commands and file sync, and the argv
// and client config that let the system ssh reach guests the same way.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/access/known_hosts.h"
#include "reconciler/access/remote_command.h"
#include "reconciler/access/ssh_client_config.h"
#include "reconciler/access/ssh_dir.h"
#include "reconciler/access/ssh_session.h"
#include "reconciler/os/exec.h"
#include "reconciler/runtime/vm_services.h"

namespace banger::access {

struct SshAccessOptions {
  int port = 22;
  // Where the guest's /root is as seen through sshd. Always "/root" for
  // real guests; tests running sshd on the host point it at a temp dir.
  std::string guest_root = "/root";
  // The host user's home for `~` in file_sync host paths; empty: HomeDir().
  std::string home;
  // Bound on one connection attempt (TCP connect, handshake, each libssh2
  // call) and on the internal commands of a file sync.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  // One connection for a command: no retry loop behind it, so it allows for
  // a guest slowed by a loaded host (software emulation, several VMs).
  std::chrono::milliseconds exec_connect_timeout{std::chrono::seconds(20)};
  // Pause between WaitForLogin attempts.
  std::chrono::milliseconds retry_interval{200};
};

class SshGuestAccess : public runtime::GuestAccess {
 public:
  // `runner` (for ssh-keygen) must outlive this object.
  SshGuestAccess(std::string config_dir, CommandRunner& runner, SshAccessOptions options = {});

  Status PinHostKeys(const std::string& vm, const std::string& ip,
                     const runtime::HostKeys& keys) override;
  Status ForgetHostKeys(const std::string& vm) override;
  // Retries refused connections, timeouts and a not yet accepted key every
  // retry_interval until `deadline` (then kTimeout with the last error); a
  // host key mismatch or a missing pin fails at once.
  Status WaitForLogin(const std::string& vm, const std::string& ip,
                      std::chrono::steady_clock::time_point deadline) override;
  // Over SFTP, or remote commands when the guest has no SFTP subsystem.
  Result<std::map<std::string, std::string>> SyncFiles(
      const std::string& vm, const std::string& ip,
      const std::vector<specs::FileSyncSpec>& entries, apply::StepProgress& progress) override;
  Result<std::string> AuthorizedKey() override;
  Status RequestPoweroff(const std::string& vm, const std::string& ip) override;

  // Runs argv in the guest (quoted for the remote shell), streaming its
  // output; returns the remote exit status (see RunRemote).
  Result<int> Exec(const std::string& vm, const std::string& ip,
                   const std::vector<std::string>& argv, std::string_view stdin_data,
                   const OutputSink& out, const OutputSink& err);

  // argv for the system ssh client (`banger vm ssh`), see SshClientArgv.
  std::vector<std::string> ClientArgv(const std::string& vm, const std::string& ip,
                                      const std::vector<std::string>& command = {}) const;

  // Rewrites <config>/ssh/config with one Host entry per VM.
  Status WriteSshConfig(const std::vector<VmEntry>& vms);

  // An authenticated session (one attempt), for callers that run several
  // operations on one connection.
  Result<SshSession> Connect(const std::string& vm, const std::string& ip,
                             std::chrono::milliseconds timeout);

  const SshPaths& paths() const { return paths_; }

 private:
  SshPaths paths_;
  CommandRunner& runner_;
  SshAccessOptions options_;
  KnownHostsFile known_hosts_;
};

}  // namespace banger::access
