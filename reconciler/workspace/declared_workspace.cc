#include "reconciler/workspace/declared_workspace.h"

#include "reconciler/agent/agent_client.h"
#include "reconciler/os/fs.h"
#include "reconciler/workspace/guest_workspace.h"

namespace banger::workspace {
namespace {

using Clock = std::chrono::steady_clock;

// A whole import, from the first byte to the index refresh.
constexpr std::chrono::hours kTransferTimeout(1);

}  // namespace

ImportOptions DeclaredImportOptions(const specs::WorkspaceSpec& spec, const std::string& home) {
  ImportOptions options;
  options.path = ExpandTilde(spec.repo, home);
  options.ref = spec.ref;
  return options;
}

Result<ImportPlan> BuildDeclaredImport(CommandRunner& runner, const specs::WorkspaceSpec& spec,
                                       const std::string& home, const std::string& temp_parent) {
  auto plan = BuildImport(runner, DeclaredImportOptions(spec, home), temp_parent);
  if (!plan.ok()) return std::move(plan).error().WithContext("workspace");
  return plan;
}

Status SendDeclaredImport(const model::VmHandles& handles, const ImportPlan& plan,
                          ExistingRepo existing, std::chrono::seconds connect_timeout,
                          apply::StepProgress& progress) {
  BANGER_ASSIGN_OR_RETURN(agentclient::AgentEndpoint endpoint, agentclient::EndpointFor(handles));
  auto client = agentclient::AgentClient::Connect(endpoint, Clock::now() + connect_timeout);
  if (!client.ok()) return std::move(client).error().WithContext("workspace: guest agent");
  const auto deadline = Clock::now() + kTransferTimeout;
  BANGER_ASSIGN_OR_RETURN(bool exists, GuestRepoExists(*client, deadline));
  if (exists && existing == ExistingRepo::kKeep) {
    progress.Note(std::string("workspace: keeping the ") + kGuestRepo + " the work disk already has");
    return OkStatus();
  }
  if (exists) {
    progress.Note(std::string("workspace: removing the guest's ") + kGuestRepo);
    BANGER_RETURN_IF_ERROR(RemoveGuestRepo(*client, deadline));
  }
  BANGER_RETURN_IF_ERROR(CheckGuestTarget(*client, plan.total_bytes, deadline));
  progress.Note("workspace: importing " + plan.source +
                (plan.is_git ? " at " + plan.base_commit.substr(0, 12) : std::string()) + " (" +
                std::to_string((plan.total_bytes + (1u << 20) - 1) >> 20) + " MiB)");
  Status st = SendImport(*client, plan, deadline);
  if (!st.ok()) return std::move(st).error().WithContext("workspace");
  return OkStatus();
}

}  // namespace banger::workspace
