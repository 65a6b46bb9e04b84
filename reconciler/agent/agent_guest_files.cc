#include "reconciler/agent/agent_guest_files.h"

#include <cstdio>

#include "reconciler/agent/agent_exec.h"
#include "reconciler/agent/agent_transfer.h"
#include "reconciler/os/fs.h"

namespace banger::agentclient {
namespace {

class AgentFiles : public access::GuestFiles {
 public:
  AgentFiles(AgentClient& client, std::chrono::milliseconds timeout)
      : client_(client), timeout_(timeout) {}

  Status MakeParents(const std::string& path) override {
    return Run({"mkdir", "-p", "--", Dirname(path)});
  }

  Status MakeDir(const std::string& path, mode_t mode) override {
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
    return Run({"sh", "-c", "mkdir -p -- \"$1\" && chown 0:0 -- \"$1\" && chmod \"$2\" -- \"$1\"",
                "sh", path, octal});
  }

  Status PutFile(const std::string& host_path, const std::string& path, mode_t mode) override {
    const std::string temp = access::GuestTempPath(path);
    TarEntry entry;
    entry.name = Basename(temp);
    entry.mode = mode;
    entry.host_path = host_path;
    Status put = PutEntries(client_, Dirname(path), {entry}, StepDeadline());
    if (put.ok()) put = Run({"mv", "-f", "--", temp, path});
    if (!put.ok()) (void)Run({"rm", "-f", "--", temp});
    return put;
  }

 private:
  Deadline StepDeadline() const { return std::chrono::steady_clock::now() + timeout_; }

  // Runs a command; a non-zero exit is an error with its stderr.
  Status Run(std::vector<std::string> argv) {
    ExecRun run;
    run.request.argv = argv;
    std::string err;
    run.err = [&](std::string_view d) {
      if (err.size() < 2048) err.append(d);
    };
    run.deadline = StepDeadline();
    BANGER_ASSIGN_OR_RETURN(int code, RunExec(client_, run));
    if (code == 0) return OkStatus();
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return Error(Code::kIo, "in the guest: " + argv[0] + " exited " + std::to_string(code) +
                                (err.empty() ? "" : ": " + err));
  }

  AgentClient& client_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<access::GuestFiles> AgentGuestFiles(AgentClient& client,
                                                    std::chrono::milliseconds step_timeout) {
  return std::make_unique<AgentFiles>(client, step_timeout);
}

Result<std::map<std::string, std::string>> SyncFilesThroughAgent(
    const model::VmHandles& handles, const std::vector<specs::FileSyncSpec>& entries,
    const access::SyncRoots& roots, std::chrono::milliseconds connect_timeout,
    apply::StepProgress& progress) {
  auto endpoint = EndpointFor(handles);
  if (!endpoint.ok()) return Error(Code::kUnavailable, endpoint.error().message());
  auto client = AgentClient::Connect(*endpoint, std::chrono::steady_clock::now() + connect_timeout);
  if (!client.ok()) {
    Error e = std::move(client).error().WithContext("guest agent");
    if (e.code() == Code::kTimeout) return Error(Code::kUnavailable, e.message());
    return e;
  }
  progress.Note("copying files through the guest agent");
  auto files = AgentGuestFiles(*client, std::chrono::seconds(120));
  return access::SyncFileEntries(entries, roots, *files, progress);
}

}  // namespace banger::agentclient
