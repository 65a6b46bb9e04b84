// banger apply -f FILE... [--yes] [--watch] | banger apply PLAN
#include <ostream>

#include "reconciler/cli/apply_flow.h"
#include "reconciler/cli/spec_report.h"
#include "reconciler/os/cancel.h"
#include "reconciler/os/file_watcher.h"
#include "reconciler/os/fs.h"

namespace banger::cli {
namespace {

struct ApplyArgs {
  std::vector<std::string> files;
  std::string plan_file;
  bool watch = false;
  std::string state_dir;
  ApplyOptions options;
};

int ApplyFiles(Console& console, const ApplyArgs& args) {
  auto session = OpenSession(args.files, args.state_dir);
  if (!session.ok()) return Fail(console, session.error());
  if (!ReportDiagnostics(console, session->specs)) return kExitError;
  ApplyOptions options = args.options;
  for (const std::string& f : args.files) {
    auto abs = AbsolutePath(f);
    if (!abs.ok()) return Fail(console, abs.error());
    options.record_files.push_back(*abs);
  }
  return ApplySpecs(console, *session, options);
}

// SIGINT/SIGTERM cancel the cycle in progress (its builds clean up, see
// reconciler/os/cancel.h) and end the loop.
int Watch(Console& console, const ApplyArgs& args) {
  auto watcher = FileWatcher::Create(args.files);
  if (!watcher.ok()) return Fail(console, watcher.error());
  int last = kExitOk;
  for (;;) {
    last = ApplyFiles(console, args);
    // Interrupted during the cycle: exit 128 + signal. From the prompt on,
    // a signal is the normal end of the watch (WaitForChange sees it even
    // when it arrives before the wait starts).
    if (CancelRequested()) break;
    console.out << "Watching " << args.files.size()
                << (args.files.size() == 1 ? " path" : " paths")
                << " for changes (Ctrl-C to stop)..." << std::endl;
    auto changed = watcher->WaitForChange(std::chrono::milliseconds(300), CancelWakeFd());
    if (!changed.ok()) return Fail(console, changed.error());
    if (*changed == WatchWake::kStopped) {
      ConsumeCancel();  // stopped while waiting: the normal end of a watch
      break;
    }
    console.out << "\nChange detected; planning again." << std::endl;
  }
  console.out << "Stopped watching.\n";
  return last;
}

int RunApply(Console& console, const ApplyArgs& args) {
  if (!args.plan_file.empty()) {
    if (!args.files.empty() || args.watch)
      return Fail(console, InvalidArgument("a saved plan is applied alone: drop -f/--watch"));
    if (!args.state_dir.empty())
      return Fail(console, InvalidArgument("a saved plan names its own state dir: drop --state-dir"));
    return ApplySavedPlan(console, args.plan_file, args.options);
  }
  if (args.files.empty())
    return Fail(console, InvalidArgument("nothing to apply: give -f FILE or a saved plan"));
  return args.watch ? Watch(console, args) : ApplyFiles(console, args);
}

}  // namespace

void AddApplyCommand(CLI::App& app, Console& console, Command& command) {
  auto args = std::make_shared<ApplyArgs>();
  CLI::App* cmd = app.add_subcommand("apply", "converge the host to the spec");
  AddFileOption(cmd, args->files, /*required=*/false);
  AddStateDirOption(cmd, args->state_dir);
  cmd->add_option("plan", args->plan_file, "a plan saved by `banger plan --out`");
  cmd->add_flag("-y,--yes", args->options.yes, "do not ask before deleting or replacing");
  cmd->add_flag("-w,--watch", args->watch, "apply again whenever a spec file is saved");
  cmd->add_flag("--refresh-images", args->options.refresh_images,
                "re-pull OCI images whose tag moved to another digest");
  cmd->add_option("--target", args->options.targets,
                  "apply only this address (e.g. image.base) and what it depends on; repeatable");
  cmd->add_option("--parallelism", args->options.parallelism, "steps run at once")
      ->check(CLI::Range(1, 64));
  auto daemon_wait = std::make_shared<int>(60);
  cmd->add_option("--daemon-wait", *daemon_wait,
                  "seconds to wait for the banger daemon to finish its cycle when it holds "
                  "the state dir (default 60; another apply is refused at once)")
      ->check(CLI::Range(0, 3600));
  cmd->callback([&console, &command, args, daemon_wait] {
    args->options.daemon_lock_wait = std::chrono::seconds(*daemon_wait);
    command.run = [&console, args] { return RunApply(console, *args); };
  });
}

}  // namespace banger::cli
