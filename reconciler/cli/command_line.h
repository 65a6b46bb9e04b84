// The command line split at its first `--`: CLI11 parses the words before
// it, and the words after it are the trailing command of the verbs that run
// one (`vm exec NAME -- CMD`, `vm run [PATH] -- CMD`). Left to CLI11, the
// words after `--` would fill the verb's positionals in order, so
// `vm run -- make test` would take `make` for PATH.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reconciler/cli/cli.h"

namespace banger::cli {

struct SplitCommandLine {
  std::vector<std::string> head;  // argv[0] and every word before the first `--`
  // The words after it; empty optional when there is no `--` at all.
  std::optional<std::vector<std::string>> trailing;
};

SplitCommandLine SplitAtDoubleDash(int argc, const char* const* argv);

// Parses `line.head` with `app` (CLI11 exceptions propagate to the caller,
// which renders them) and hands `line.trailing` to the verb that was
// chosen. A `--` given to a verb that runs no command is kInvalidArgument.
Status ParseCommandLine(CLI::App& app, Command& command, const SplitCommandLine& line);

}  // namespace banger::cli
