// banger plan -f FILE... [--json] [--out PLAN] [--detailed-exitcode]
#include <ostream>

#include "reconciler/cli/session.h"
#include "reconciler/cli/spec_report.h"
#include "reconciler/os/fs.h"
#include "reconciler/plan/planner.h"
#include "reconciler/plan/render.h"

namespace banger::cli {
namespace {

struct PlanArgs {
  std::vector<std::string> files;
  bool json = false;
  std::string out;
  bool detailed_exitcode = false;
  bool refresh_images = false;
  std::vector<std::string> targets;
  std::string state_dir;
};

int RunPlan(Console& console, const PlanArgs& args) {
  auto session = OpenSession(args.files, args.state_dir);
  if (!session.ok()) return Fail(console, session.error());
  if (!ReportDiagnostics(console, session->specs)) return kExitError;
  plan::Plan p = plan::TargetPlan(PlanSession(*session, {.refresh_images = args.refresh_images}),
                                  args.targets);

  if (args.json) {
    console.out << plan::PlanToJson(p).dump(2) << "\n";
  } else {
    console.out << plan::RenderText(p, {.color = console.color});
  }
  if (!p.errors.empty()) return kExitError;
  if (!args.out.empty()) {
    plan::SavedPlan saved{p, session->specs.state, session->paths.root()};
    Status st = AtomicWriteFile(args.out, plan::SavedPlanToString(saved), 0644);
    if (!st.ok()) return Fail(console, st.error());
    if (!args.json)
      console.out << "Saved the plan to " << args.out << "; apply it with: banger apply "
                  << args.out << "\n";
  }
  // An incomplete observation is neither "no changes" nor a full plan of
  // changes: scripts asking for the detailed code must not read it as 0.
  if (args.detailed_exitcode && !p.observation_complete) return kExitError;
  if (args.detailed_exitcode && p.has_changes()) return kExitChanges;
  return kExitOk;
}

}  // namespace

void AddPlanCommand(CLI::App& app, Console& console, Command& command) {
  auto args = std::make_shared<PlanArgs>();
  CLI::App* cmd = app.add_subcommand("plan", "show what apply would change, and why");
  AddFileOption(cmd, args->files);
  AddStateDirOption(cmd, args->state_dir);
  cmd->add_flag("--json", args->json, "print the plan as JSON");
  cmd->add_option("--out", args->out, "save the plan for `banger apply PLAN`");
  cmd->add_flag("--detailed-exitcode", args->detailed_exitcode,
                "exit 0 when nothing changes, 2 when something would, 1 on error");
  cmd->add_option("--target", args->targets,
                  "plan only this address and what it depends on; repeatable");
  cmd->add_flag("--refresh-images", args->refresh_images,
                "re-pull OCI images whose tag moved to another digest");
  cmd->callback([&console, &command, args] {
    command.run = [&console, args] { return RunPlan(console, *args); };
  });
}

}  // namespace banger::cli
