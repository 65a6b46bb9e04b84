// The one place banger runs external programs.
//
// Programs are started from an argv vector (never through a shell) with an
// explicit environment, a timeout, and captured, size-limited output.
// CommandRunner is the seam: RealCommandRunner forks and execs; tests use a
// recording runner to assert the exact commands a step ran.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "reconciler/base/error.h"

namespace banger {

struct ExecRequest {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH if bare
  // Full environment of the child. Unset: a minimal one (PATH, HOME, LANG=C,
  // TMPDIR and USER taken from the parent when set).
  std::optional<std::vector<std::string>> env;
  std::string cwd;                // empty: inherit
  std::string stdin_data;         // written to the child's stdin, then EOF
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  size_t output_limit = 16u << 20;  // bytes kept per stream; the rest dropped
  // When set, stdout/stderr go to this file (appended) instead of captured.
  std::string output_file;
};

struct ExecResult {
  int exit_code = -1;   // -1 when killed by a signal
  int term_signal = 0;  // signal that ended the child, 0 if it exited
  bool timed_out = false;
  std::string out;
  std::string err;

  bool success() const { return exit_code == 0 && !timed_out; }
};

// "mkfs.ext4 -q -F ..." for messages (arguments shell-quoted when needed).
std::string DescribeArgv(const std::vector<std::string>& argv);

// The minimal environment described on ExecRequest::env.
std::vector<std::string> DefaultEnvironment();

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Fails only when the program could not be started, or with kCancelled
  // when SIGINT/SIGTERM arrived (see cancel.h): the child's process group
  // is then stopped and reaped first. A non-zero exit is a successful Run
  // with exit_code set.
  virtual Result<ExecResult> Run(const ExecRequest& request) = 0;
};

class RealCommandRunner : public CommandRunner {
 public:
  Result<ExecResult> Run(const ExecRequest& request) override;
};

// The process-wide real runner.
CommandRunner& SystemRunner();

// Runs and turns a failure (cannot start, non-zero exit, timeout) into an
// Error naming the program, its exit status and the tail of its stderr.
Result<ExecResult> RunChecked(CommandRunner& runner, const ExecRequest& request);
Result<ExecResult> RunChecked(const ExecRequest& request);

// Finds a program in PATH (or the extra directories given); empty if absent.
std::string FindProgram(const std::string& name,
                        const std::vector<std::string>& extra_dirs = {});

}  // namespace banger
