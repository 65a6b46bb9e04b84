// access::GuestFiles through the guest agent, for file_sync into a running
// VM: file content travels as a one-entry tar (put) to a temp name next to
// the destination, which a rename then puts in place, so the guest never
// sees a half-written file; directories are made by commands.
#pragma once

#include <map>
#include <memory>

#include "reconciler/access/file_sync.h"
#include "reconciler/access/guest_files.h"
#include "reconciler/agent/agent_client.h"

namespace banger::agentclient {

// `client` must outlive the result. Each call gets `step_timeout`.
std::unique_ptr<access::GuestFiles> AgentGuestFiles(AgentClient& client,
                                                    std::chrono::milliseconds step_timeout);

// file_sync entries into the running VM of `handles` through its agent
// (see access::SyncFileEntries). kUnavailable when the agent does not
// answer within `connect_timeout`: nothing was copied, SSH may be used.
Result<std::map<std::string, std::string>> SyncFilesThroughAgent(
    const model::VmHandles& handles, const std::vector<specs::FileSyncSpec>& entries,
    const access::SyncRoots& roots, std::chrono::milliseconds connect_timeout,
    apply::StepProgress& progress);

}  // namespace banger::agentclient
