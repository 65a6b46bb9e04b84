// banger vm workspace prepare NAME [PATH] [--mode shallow|full] [--branch B | --from REF]
// banger vm workspace export NAME [--base-commit C] [-o FILE]
#include <stdio.h>
#include <unistd.h>

#include <fstream>
#include <memory>

#include "reconciler/agent/agent_client.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/session.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"
#include "reconciler/workspace/guest_workspace.h"
#include "reconciler/workspace/import_builder.h"

namespace banger::cli {
namespace {

using Clock = std::chrono::steady_clock;

// How long the agent has to answer, and a whole import or export to run.
constexpr std::chrono::seconds kConnectTimeout(30);
constexpr std::chrono::hours kTransferTimeout(1);

struct PrepareArgs {
  std::string name;
  std::string path = ".";
  std::string mode = "shallow";
  std::string branch;
  std::string from;
  StateArgs state;
};

struct ExportArgs {
  std::string name;
  std::string base;
  std::string output;
  StateArgs state;
};

// A connection to the agent of the running VM `name`.
Result<agentclient::AgentClient> ConnectToVm(Session& s, const std::string& name) {
  if (!s.snapshot.ok()) return s.snapshot.error();
  if (!s.snapshot->vms.count(name)) return NotFoundInState(s, "vm", name);
  BANGER_ASSIGN_OR_RETURN(model::VmLiveness live, s.runtime.vms->Observe(name));
  if (!live.process_running)
    return FailedPrecondition("vm " + Quote(name) + " is not running; `banger vm start " + name +
                              "` boots it");
  BANGER_ASSIGN_OR_RETURN(agentclient::AgentEndpoint endpoint, agentclient::EndpointFor(live.handles));
  auto client = agentclient::AgentClient::Connect(endpoint, Clock::now() + kConnectTimeout);
  if (!client.ok()) return std::move(client).error().WithContext("guest agent of vm " + Quote(name));
  return client;
}

int RunPrepare(Console& console, const PrepareArgs& args) {
  workspace::ImportOptions options;
  options.path = args.path;
  options.branch = args.branch;
  options.from = args.from;
  auto mode = workspace::ParseCloneMode(args.mode);
  if (!mode.ok()) return Fail(console, mode.error());
  options.mode = *mode;
  // The host side first: bad input fails before the VM is touched.
  auto plan = workspace::BuildImport(SystemRunner(), options, HostTempParent());
  if (!plan.ok()) return Fail(console, plan.error());
  auto s = OpenState(args.state);
  if (!s.ok()) return Fail(console, s.error());
  auto client = ConnectToVm(*s, args.name);
  if (!client.ok()) return Fail(console, client.error());
  const auto deadline = Clock::now() + kTransferTimeout;
  const std::string where = "vm " + Quote(args.name);
  if (Status st = workspace::CheckGuestTarget(*client, plan->total_bytes, deadline); !st.ok())
    return Fail(console, st.error().WithContext(where));
  if (Status st = workspace::SendImport(*client, *plan, deadline); !st.ok())
    return Fail(console, st.error().WithContext(where));
  console.out << "imported " << plan->source;
  if (plan->is_git) console.out << " at " << plan->base_commit.substr(0, 12);
  console.out << " into " << args.name << ":" << workspace::kGuestRepo << " ("
              << ((plan->total_bytes + (1u << 20) - 1) >> 20) << " MiB)\n";
  return kExitOk;
}

int RunExport(Console& console, const ExportArgs& args) {
  auto s = OpenState(args.state);
  if (!s.ok()) return Fail(console, s.error());
  auto client = ConnectToVm(*s, args.name);
  if (!client.ok()) return Fail(console, client.error());
  const auto deadline = Clock::now() + kTransferTimeout;
  const std::string where = "vm " + Quote(args.name);
  if (args.output.empty() || args.output == "-") {
    Status st = workspace::ExportPatch(*client, args.base, [&](std::string_view d) -> Status {
      console.out.write(d.data(), static_cast<std::streamsize>(d.size()));
      if (!console.out) return Error(Code::kIo, "write the patch to stdout");
      return OkStatus();
    }, deadline);
    console.out.flush();
    if (!st.ok()) return Fail(console, st.error().WithContext(where));
    return kExitOk;
  }
  // Written beside the target and renamed: a failed export leaves no
  // half patch under the name the user gave.
  const std::string tmp = args.output + ".tmp-" + std::to_string(getpid());
  std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
  if (!f) return Fail(console, Error::FromErrno("create " + Quote(tmp)));
  Status st = workspace::ExportPatch(*client, args.base, [&](std::string_view d) -> Status {
    f.write(d.data(), static_cast<std::streamsize>(d.size()));
    if (!f) return Error::FromErrno("write " + Quote(tmp));
    return OkStatus();
  }, deadline);
  f.close();
  if (st.ok() && !f) st = Error::FromErrno("write " + Quote(tmp));
  if (st.ok() && rename(tmp.c_str(), args.output.c_str()) != 0)
    st = Error::FromErrno("rename " + Quote(tmp) + " to " + Quote(args.output));
  if (!st.ok()) {
    unlink(tmp.c_str());
    return Fail(console, st.error().WithContext(where));
  }
  return kExitOk;
}

}  // namespace

void AddVmWorkspaceCommands(CLI::App* vm, Console& console, Command& command) {
  CLI::App* ws = vm->add_subcommand("workspace", "a repository in a VM's /root/repo");
  ws->require_subcommand(1);

  auto prep = std::make_shared<PrepareArgs>();
  CLI::App* p = ws->add_subcommand(
      "prepare",
      "import a repository (or a plain directory) into a running VM's /root/repo: a clone of "
      "HEAD with the working tree laid over it, submodules from the host's checkouts");
  p->add_option("name", prep->name, "VM name")->required();
  p->add_option("path", prep->path, "repository or directory on the host (default .)");
  p->add_option("--mode", prep->mode, "shallow (depth 10) or full history")->default_val("shallow");
  auto* branch = p->add_option("--branch", prep->branch, "import this branch instead of HEAD and the working tree");
  p->add_option("--from", prep->from, "import this commit (any ref) instead of HEAD and the working tree")
      ->excludes(branch);
  AddStateOptions(p, prep->state);
  p->callback([&console, &command, prep] {
    command.run = [&console, prep] { return RunPrepare(console, *prep); };
  });

  auto exp = std::make_shared<ExportArgs>();
  CLI::App* e = ws->add_subcommand(
      "export",
      "write one binary patch of everything in the VM's /root/repo that differs from the "
      "import commit; `git apply --index` on the host at that commit reproduces the guest's tree");
  e->add_option("name", exp->name, "VM name")->required();
  e->add_option("--base-commit", exp->base, "diff against this commit (default: the import commit)");
  e->add_option("-o,--output", exp->output, "write the patch here (default stdout)");
  AddStateOptions(e, exp->state);
  e->callback([&console, &command, exp] {
    command.run = [&console, exp] { return RunExport(console, *exp); };
  });
}

}  // namespace banger::cli
