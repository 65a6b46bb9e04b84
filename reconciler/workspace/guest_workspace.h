// A workspace inside a running guest, through its agent: sending an import
// into /root/repo, and exporting what changed there as one patch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/agent/agent_client.h"
#include "reconciler/workspace/import_builder.h"
#include "reconciler/workspace/tree_tar.h"

namespace banger::workspace {

// Where every workspace lives in the guest.
inline constexpr char kGuestRepo[] = "/root/repo";

using agentclient::AgentClient;
using agentclient::Deadline;

// Runs `argv` in the guest and returns its stdout; a non-zero exit is an
// error carrying the command and the tail of its stderr.
Result<std::string> GuestOutput(AgentClient& client, const std::vector<std::string>& argv,
                                const std::vector<std::string>& env, Deadline deadline);

// Whether the guest has /root/repo.
Result<bool> GuestRepoExists(AgentClient& client, Deadline deadline);

// Removes the guest's /root/repo and everything in it.
Status RemoveGuestRepo(AgentClient& client, Deadline deadline);

// Refuses (kAlreadyExists) when the guest already has /root/repo, and
// (kFailedPrecondition) when the filesystem holding /root has less free
// space than `bytes`; nothing is written.
Status CheckGuestTarget(AgentClient& client, uint64_t bytes, Deadline deadline);

// Streams the import into /root/repo; for a repository, also marks it a
// safe.directory for root and refreshes its index (the clone's index
// carries no stat data, which would make the first `git status` rehash
// every file).
Status SendImport(AgentClient& client, const ImportPlan& plan, Deadline deadline);

// Writes to `sink` one binary patch of everything in /root/repo that
// differs from `base` (empty: the commit recorded at import): commits,
// staged and unstaged changes, untracked files that are not ignored,
// deletions, renames and mode changes. The guest's own index is not
// touched: the patch is computed through a temporary one.
Status ExportPatch(AgentClient& client, const std::string& base, const TarSink& sink,
                   Deadline deadline);

}  // namespace banger::workspace
