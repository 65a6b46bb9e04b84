// The command line: one file per verb, each thin (parse, call, render).
//
// A verb registers its subcommand on the CLI11 app and sets `run` to the
// function that does the work once parsing succeeded. Verbs return the exit
// code; errors are rendered here and nowhere below.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "reconciler/base/error.h"

namespace banger::cli {

struct Console {
  std::ostream& out;
  std::ostream& err;
  bool out_tty = false;  // colour and prompts only on terminals
  bool in_tty = false;
  bool color = false;
};

// Exit codes.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitChanges = 2;  // plan --detailed-exitcode: changes present

struct Command {
  std::function<int()> run;
  // Set by verbs that run a command in a guest: receives the words after
  // the command line's first `--` (see command_line.h).
  std::function<void(std::vector<std::string>)> take_trailing;
};

// "banger: error: <message>" on stderr; returns kExitError.
int Fail(Console& console, const Error& error);

// Registration, one per verb file.
void AddValidateCommand(CLI::App& app, Console& console, Command& command);
void AddPlanCommand(CLI::App& app, Console& console, Command& command);
void AddApplyCommand(CLI::App& app, Console& console, Command& command);
void AddArtifactCommands(CLI::App& app, Console& console, Command& command);
void AddImagePullCommand(CLI::App* image, Console& console, Command& command);
void AddHelperCommand(CLI::App& app, Console& console, Command& command);
void AddVmAccessCommands(CLI::App* vm, Console& console, Command& command);
void AddVmWorkspaceCommands(CLI::App* vm, Console& console, Command& command);
void AddVmRunCommand(CLI::App* vm, Console& console, Command& command);
void AddSshConfigCommand(CLI::App& app, Console& console, Command& command);
void AddDoctorCommand(CLI::App& app, Console& console, Command& command);
void AddVersionCommand(CLI::App& app, Console& console, Command& command);
void AddVmListCommands(CLI::App* vm, Console& console, Command& command);
void AddVmLogsCommand(CLI::App* vm, Console& console, Command& command);
void AddVmLifecycleCommands(CLI::App* vm, Console& console, Command& command);
void AddCompletionCommand(CLI::App& app, Console& console, Command& command);
void AddSystemCommand(CLI::App& app, Console& console, Command& command);
void AddDaemonCommand(CLI::App& app, Console& console, Command& command);
void AddStatusCommands(CLI::App& app, Console& console, Command& command);
void AddVmSnapshotCommands(CLI::App* vm, Console& console, Command& command);
void AddSnapshotCommands(CLI::App& app, Console& console, Command& command);

// Runs the CLI; the process exit code.
int Main(int argc, char** argv);

}  // namespace banger::cli
