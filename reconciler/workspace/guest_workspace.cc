#include "reconciler/workspace/guest_workspace.h"

#include <sstream>

#include "reconciler/agent/agent_exec.h"
#include "reconciler/agent/agent_transfer.h"

namespace banger::workspace {
namespace {

struct GuestRun {
  int code = -1;
  std::string err;
};

// Runs `argv` in the guest; stdout goes to `out` as it arrives.
Result<GuestRun> RunInGuest(AgentClient& client, const std::vector<std::string>& argv,
                            const std::vector<std::string>& env, const TarSink& out,
                            Deadline deadline) {
  agentclient::ExecRun run;
  run.request.argv = argv;
  run.request.env = env;
  run.request.cwd = "/";
  Status sink_status = OkStatus();
  GuestRun result;
  run.out = [&](std::string_view d) {
    if (sink_status.ok()) sink_status = out(d);
  };
  run.err = [&](std::string_view d) {
    if (result.err.size() < 64 * 1024) result.err.append(d);
  };
  run.deadline = deadline;
  BANGER_ASSIGN_OR_RETURN(result.code, agentclient::RunExec(client, run));
  BANGER_RETURN_IF_ERROR(sink_status);
  return result;
}

Error GuestFailure(const std::vector<std::string>& argv, const GuestRun& r) {
  std::string err = r.err;
  while (!err.empty() && err.back() == '\n') err.pop_back();
  if (err.size() > 2000) err = err.substr(err.size() - 2000);
  return Error(Code::kFailedPrecondition, "in the guest: " + DescribeArgv(argv) + ": exit " +
                                              std::to_string(r.code) + (err.empty() ? "" : ": " + err));
}

}  // namespace

Result<std::string> GuestOutput(AgentClient& client, const std::vector<std::string>& argv,
                                const std::vector<std::string>& env, Deadline deadline) {
  std::string out;
  BANGER_ASSIGN_OR_RETURN(GuestRun r, RunInGuest(client, argv, env, [&](std::string_view d) {
    out.append(d);
    return OkStatus();
  }, deadline));
  if (r.code != 0) return GuestFailure(argv, r);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

Result<bool> GuestRepoExists(AgentClient& client, Deadline deadline) {
  const std::vector<std::string> test = {"test", "-e", kGuestRepo};
  BANGER_ASSIGN_OR_RETURN(GuestRun exists, RunInGuest(client, test, {}, [](std::string_view) {
    return OkStatus();
  }, deadline));
  return exists.code == 0;
}

Status RemoveGuestRepo(AgentClient& client, Deadline deadline) {
  return GuestOutput(client, {"rm", "-rf", "--", kGuestRepo}, {}, deadline).ok()
             ? OkStatus()
             : Status(Error(Code::kIo, std::string("remove ") + kGuestRepo + " in the guest"));
}

Status CheckGuestTarget(AgentClient& client, uint64_t bytes, Deadline deadline) {
  BANGER_ASSIGN_OR_RETURN(bool exists, GuestRepoExists(client, deadline));
  if (exists)
    return Error(Code::kAlreadyExists,
                 std::string("the guest already has ") + kGuestRepo +
                     "; remove it first (`banger vm exec NAME -- rm -rf /root/repo`)");
  BANGER_ASSIGN_OR_RETURN(std::string df,
                          GuestOutput(client, {"df", "-P", "-k", "/root"}, {}, deadline));
  // POSIX df -P: a header line, then "fs blocks used available capacity mount".
  std::istringstream lines(df);
  std::string header, line, fs;
  uint64_t blocks = 0, used = 0, avail = 0;
  std::getline(lines, header);
  std::getline(lines, line);
  std::istringstream fields(line);
  if (!(fields >> fs >> blocks >> used >> avail))
    return Error(Code::kCorruption, "unexpected `df -P -k /root` output in the guest: " + Quote(df));
  const uint64_t free_bytes = avail * 1024;
  if (bytes > free_bytes)
    return FailedPrecondition("the workspace is " + std::to_string(bytes >> 20) + " MiB but the guest's /root has " +
                              std::to_string(free_bytes >> 20) + " MiB free; give the VM a larger disk");
  return OkStatus();
}

Status SendImport(AgentClient& client, const ImportPlan& plan, Deadline deadline) {
  BANGER_ASSIGN_OR_RETURN(agentclient::PutStream put,
                          agentclient::PutStream::Start(client, kGuestRepo, deadline));
  BANGER_RETURN_IF_ERROR(
      WriteImportTar(plan.entries, [&](std::string_view d) { return put.Write(d); }));
  BANGER_RETURN_IF_ERROR(put.Finish());
  if (!plan.is_git) return OkStatus();
  BANGER_RETURN_IF_ERROR(GuestOutput(
      client, {"git", "config", "--global", "--replace-all", "safe.directory", kGuestRepo,
               std::string("^") + kGuestRepo + "$"}, {}, deadline));
  // Exit 1 only says some files differ from HEAD (the host's changes).
  const std::vector<std::string> refresh = {"git", "-C", kGuestRepo, "update-index", "-q", "--refresh"};
  BANGER_ASSIGN_OR_RETURN(GuestRun r, RunInGuest(client, refresh, {}, [](std::string_view) {
    return OkStatus();
  }, deadline));
  if (r.code != 0 && r.code != 1) return GuestFailure(refresh, r);
  return OkStatus();
}

Status ExportPatch(AgentClient& client, const std::string& base, const TarSink& sink,
                   Deadline deadline) {
  std::string commit = base;
  if (commit.empty()) {
    auto recorded = GuestOutput(client, {"git", "-C", kGuestRepo, "config", kBaseCommitKey}, {}, deadline);
    if (!recorded.ok())
      return FailedPrecondition(std::string(kGuestRepo) +
                                " records no import commit (was it imported by banger?); "
                                "give --base-commit");
    commit = *recorded;
  }
  BANGER_ASSIGN_OR_RETURN(
      std::string index,
      GuestOutput(client, {"mktemp", "-u", "/tmp/banger-export-index.XXXXXX"}, {}, deadline));
  const std::vector<std::string> env = {"GIT_INDEX_FILE=" + index};
  Status st = [&]() -> Status {
    BANGER_RETURN_IF_ERROR(GuestOutput(client, {"git", "-C", kGuestRepo, "add", "-A"}, env, deadline));
    const std::vector<std::string> diff = {"git", "-C", kGuestRepo, "diff", "--cached", "--binary",
                                           "--full-index", "-M", "--no-color", "--no-ext-diff",
                                           "--src-prefix=a/", "--dst-prefix=b/", commit, "--"};
    BANGER_ASSIGN_OR_RETURN(GuestRun r, RunInGuest(client, diff, env, sink, deadline));
    if (r.code != 0) return GuestFailure(diff, r);
    return OkStatus();
  }();
  Status removed = GuestOutput(client, {"rm", "-f", index}, {}, deadline).ok()
                       ? OkStatus()
                       : Status(Error(Code::kIo, "remove " + Quote(index) + " in the guest"));
  BANGER_RETURN_IF_ERROR(st);
  return removed;
}

}  // namespace banger::workspace
