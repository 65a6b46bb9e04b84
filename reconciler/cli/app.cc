#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "reconciler/base/version.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/command_line.h"
#include "reconciler/net/helper_client.h"
#include "reconciler/os/cancel.h"

namespace banger::cli {

int Fail(Console& console, const Error& error) {
  console.err << "banger: error: " << error.message() << "\n";
  return kExitError;
}

int Main(int argc, char** argv) {
  Console console{std::cout, std::cerr};
  console.out_tty = isatty(STDOUT_FILENO);
  console.in_tty = isatty(STDIN_FILENO);
  const char* no_color = getenv("NO_COLOR");
  console.color = console.out_tty && !(no_color && *no_color);
  net::HelperClient::SetBuildMismatchReporter(
      [&console](const std::string& message) { console.err << "warning: " << message << "\n"; });

  CLI::App app{"banger: fleets of disposable microVMs, declared in TOML"};
  app.name("banger");
  app.require_subcommand(1);
  app.set_version_flag("--version", "banger " + BuildString());
  Command command;
  AddValidateCommand(app, console, command);
  AddPlanCommand(app, console, command);
  AddApplyCommand(app, console, command);
  AddArtifactCommands(app, console, command);
  AddHelperCommand(app, console, command);
  AddDoctorCommand(app, console, command);
  AddVersionCommand(app, console, command);
  CLI::App* vm = app.add_subcommand("vm", "inspect and operate VMs");
  vm->require_subcommand(1);
  AddVmListCommands(vm, console, command);
  AddVmLogsCommand(vm, console, command);
  AddVmLifecycleCommands(vm, console, command);
  AddVmAccessCommands(vm, console, command);
  AddVmWorkspaceCommands(vm, console, command);
  AddVmRunCommand(vm, console, command);
  AddVmSnapshotCommands(vm, console, command);
  AddSnapshotCommands(app, console, command);
  AddSshConfigCommand(app, console, command);
  AddSystemCommand(app, console, command);
  AddCompletionCommand(app, console, command);
  AddDaemonCommand(app, console, command);
  AddStatusCommands(app, console, command);
  try {
    if (Status st = ParseCommandLine(app, command, SplitAtDoubleDash(argc, argv)); !st.ok())
      return Fail(console, st.error());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    console.err << "banger: error: " << e.what() << "\n"
                << "Run 'banger --help' for usage.\n";
    return kExitError;
  }
  if (!command.run) return kExitError;
  // SIGINT/SIGTERM only set a flag: the running step stops its children and
  // fails with kCancelled, so staging and temp files are removed by their
  // owners on the way back here.
  if (auto st = InstallCancelHandlers(); !st.ok()) return Fail(console, st.error());
  const int rc = command.run();
  if (CancelRequested()) return 128 + CancelSignal();  // the shell convention: 130, 143
  return rc;
}

}  // namespace banger::cli
