// Running a command in a guest through its agent: stdin streamed from a
// host descriptor (or given in memory), stdout and stderr streamed back to
// separate sinks as they arrive, signals and terminal size changes
// forwarded, and the exit status.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "reconciler/agent/agent_client.h"

namespace banger::agentclient {

using OutputSink = std::function<void(std::string_view)>;

struct ExecRun {
  agent::ExecStart request;
  // Input: read from stdin_fd until EOF when >= 0, else stdin_data, then EOF.
  int stdin_fd = -1;
  std::string_view stdin_data;
  OutputSink out;
  OutputSink err;
  // Delivers one byte per signal (its number): SIGWINCH sends the size of
  // `tty_fd`'s terminal (PTY runs), any other signal goes to the guest
  // process group.
  int signal_fd = -1;
  int tty_fd = -1;
  // Unset: waits as long as the command runs.
  std::optional<Deadline> deadline;
};

// The remote exit status: the exit code, or 128+N when the process died of
// signal N (as a shell reports it). Fails when the agent cannot start the
// process or the connection breaks.
Result<int> RunExec(AgentClient& client, const ExecRun& run);

// Asks the guest's init to power off through the agent
// (/usr/lib/banger/poweroff.sh, which knows systemd and banger's busybox
// init). kUnavailable when no agent answers within `connect_timeout`.
Status RequestPoweroff(const model::VmHandles& handles, std::chrono::milliseconds connect_timeout);

}  // namespace banger::agentclient
