// One process the agent runs for an exec request: its pipes (or its PTY),
// the input still to be written to it, and how it ended.
//
// The process leads its own session and process group, so a forwarded
// signal reaches the whole job (a shell and the pipeline it started), and a
// session dropped before the process ended kills the group.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "guest/agent/protocol/messages.h"
#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::agent {

// What every process gets before the request's own environment is laid
// over it; the agent runs as root with an empty environment under init.
inline constexpr const char* kBasePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

class ExecSession {
 public:
  // Starts the process. A program that cannot be run is not an error here:
  // like a shell, the child says why on its stderr and exits 127 (not
  // found) or 126 (not executable); a cwd it cannot enter exits 1 the same
  // way.
  static Result<std::unique_ptr<ExecSession>> Start(const ExecStart& request);

  ~ExecSession();
  ExecSession(const ExecSession&) = delete;
  ExecSession& operator=(const ExecSession&) = delete;

  pid_t pid() const { return pid_; }

  // Output descriptors to poll for reading; -1 once at EOF. With a PTY,
  // everything comes on stdout_fd.
  int stdout_fd() const { return stdout_.get(); }
  int stderr_fd() const { return stderr_.get(); }
  // Reads what is available from `fd` (one of the two above). At EOF the
  // result is empty and that descriptor is closed (its getter returns -1);
  // an empty result with the descriptor still open means nothing yet.
  Result<std::string> ReadOutput(int fd, size_t max);

  // The input side: -1 when nothing is waiting to be written.
  int stdin_fd_to_poll() const;
  void QueueStdin(std::string_view data);
  // EOF for the process once the queued input is written.
  void CloseStdin();
  // Writes as much queued input as the pipe takes. A process that closed
  // its stdin drops the rest, as a pipe to it would.
  void WriteStdin();

  // Sends `signal` to the process group.
  Status Signal(int signal);
  Status Resize(uint16_t rows, uint16_t cols);

  // Records the wait status the agent reaped for pid().
  void SetExited(int wait_status);
  bool exited() const { return exit_.has_value(); }
  // Done when the process exited and its output is drained.
  bool finished() const { return exit_.has_value() && !stdout_.valid() && !stderr_.valid(); }
  ExitStatus exit_status() const { return exit_.value_or(ExitStatus{}); }

 private:
  ExecSession() = default;

  pid_t pid_ = -1;
  bool pty_ = false;
  UniqueFd stdin_;
  UniqueFd stdout_;
  UniqueFd stderr_;
  std::string pending_input_;
  bool close_input_ = false;
  std::optional<ExitStatus> exit_;
};

}  // namespace banger::agent
