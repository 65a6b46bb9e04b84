// `banger vm exec` over the guest agent: the terminal and signal plumbing
// around agentclient::RunExec, and the choice between the agent and SSH.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/cli/cli.h"
#include "reconciler/model/handles.h"

namespace banger::cli {

// How `vm exec` reaches the guest.
enum class ExecVia {
  kAuto,   // the agent when it answers, else SSH
  kAgent,  // the agent only
  kSsh,    // SSH only (what images without an agent always get)
};

Result<ExecVia> ParseExecVia(const std::string& text);

struct ExecOptions {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // NAME=value
  std::string cwd;               // "": root's home, /root (where SSH logs in)
  bool tty = false;              // a PTY in the guest, this terminal in raw mode
};

// Checks env entries and cwd before anything connects.
Status ValidateExecOptions(const ExecOptions& options, ExecVia via);

// The argv that gives SSH the same env and cwd the agent would apply:
// `sh -c 'cd "$1" && shift && exec "$@"' sh CWD env NAME=value... ARGV...`.
std::vector<std::string> SshExecArgv(const ExecOptions& options);

// Runs the command through the VM's agent with this process's stdin,
// stdout and stderr; SIGINT, SIGTERM, SIGHUP and SIGQUIT are forwarded to
// the guest process group while it runs. kUnavailable (or kTimeout) when
// the agent cannot be reached within `connect_timeout`: nothing ran, and
// the caller may fall back to SSH.
Result<int> ExecViaAgent(Console& console, const model::VmHandles& handles,
                         const ExecOptions& options, std::chrono::milliseconds connect_timeout);

}  // namespace banger::cli
