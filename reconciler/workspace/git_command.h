// Running the host's git for a workspace import: argv only, a timeout, and
// errors that name the repository and the git command.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/os/exec.h"

namespace banger::workspace {

class GitCommand {
 public:
  GitCommand(CommandRunner& runner, std::chrono::milliseconds timeout)
      : runner_(&runner), timeout_(timeout) {}

  // `git -C dir ARGS...`; stdout with the trailing newline removed. A
  // non-zero exit is an error naming `dir`, the command and git's stderr.
  Result<std::string> Run(const std::string& dir, const std::vector<std::string>& args) const;
  // The same, but an exit status of `absent_code` (1 is git's "not found"
  // for config, rev-parse --verify -q, symbolic-ref -q) is an empty optional.
  Result<std::optional<std::string>> Maybe(const std::string& dir,
                                           const std::vector<std::string>& args,
                                           int absent_code = 1) const;

 private:
  Result<ExecResult> Exec(const std::string& dir, const std::vector<std::string>& args) const;
  CommandRunner* runner_;
  std::chrono::milliseconds timeout_;
};

// Splits NUL-separated git output (-z), dropping the empty tail.
std::vector<std::string> SplitNul(const std::string& text);

}  // namespace banger::workspace
