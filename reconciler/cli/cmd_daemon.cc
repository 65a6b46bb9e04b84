// banger daemon [--state-dir DIR] [--interval SECONDS]: what the owner's
// service runs, in the foreground until SIGTERM (see daemon_cycle.h).
#include <ostream>

#include "reconciler/cli/daemon_cycle.h"
#include "reconciler/cli/session.h"
#include "reconciler/os/fs.h"

namespace banger::cli {
namespace {

struct DaemonArgs {
  StateArgs state;
  int interval = 0;
};

int RunDaemonVerb(Console& console, const DaemonArgs& args) {
  auto where = ResolveStateArgs(args.state);
  if (!where.ok()) return Fail(console, where.error());
  auto dir = AbsolutePath(where->dir);
  if (!dir.ok()) return Fail(console, dir.error());
  if (Status st = MakeDirs(*dir, 0700); !st.ok()) return Fail(console, st.error());
  return RunDaemon(console, {.state_dir = *dir, .interval_override = args.interval});
}

}  // namespace

void AddDaemonCommand(CLI::App& app, Console& console, Command& command) {
  auto args = std::make_shared<DaemonArgs>();
  CLI::App* cmd = app.add_subcommand(
      "daemon",
      "keep the fleet applied in a state dir converged: repair VMs that died, follow spec "
      "file edits (deletes and replaces wait for `banger apply`); runs until SIGTERM");
  AddStateDirOption(cmd, args->state.state_dir);
  cmd->add_option("--interval", args->interval,
                  "seconds between observations (default: settings.daemon_interval, 10)")
      ->check(CLI::Range(1, 3600));
  cmd->callback([&console, &command, args] {
    command.run = [&console, args] { return RunDaemonVerb(console, *args); };
  });
}

}  // namespace banger::cli
