// Commands in a guest: turning an argv into the one command string SSH
// carries, and running it over an open session with stdout and stderr
// streamed to the caller as they arrive and stdin fed from memory.
//
// The guest's login shell parses the command string, so every argument is
// POSIX single-quoted unless it is made only of characters no shell treats
// specially: the remote program receives exactly the argv given here.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/access/ssh_session.h"

namespace banger::access {

// "it's" -> 'it'\''s'; "" -> ''; "ls" -> ls.
std::string ShellQuote(std::string_view arg);

// The argv joined with single spaces, each argument ShellQuote()d.
std::string RemoteCommandLine(const std::vector<std::string>& argv);

// Several commands run in order, stopping at the first failure ("a && b").
std::string RemoteCommandChain(const std::vector<std::vector<std::string>>& commands);


// Receives output chunks in arrival order; may be empty to drop a stream.
using OutputSink = std::function<void(std::string_view)>;

struct RemoteRun {
  std::string command_line;       // already quoted (see RemoteCommandLine)
  std::string_view stdin_data;    // sent, then EOF
  OutputSink out;
  OutputSink err;
  // Unset: waits as long as the command runs (interactive `vm exec`).
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

// The remote exit status; 128+N when the command died of signal N (as a
// shell reports it), 255 for a signal without a number here. Fails when the
// channel cannot be opened or breaks, or the deadline passes (kTimeout).
Result<int> RunRemote(SshSession& session, const RemoteRun& run);

// RunRemote collecting output; a non-zero exit is an error naming the
// command and the tail of its stderr. Bounded by the session timeout plus
// a second per MiB of input.
Status RunRemoteChecked(SshSession& session, const std::string& command_line,
                        std::string_view stdin_data = {});

}  // namespace banger::access
