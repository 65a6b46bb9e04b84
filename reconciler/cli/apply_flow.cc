#include "reconciler/cli/apply_flow.h"

#include <chrono>
#include <iostream>
#include <mutex>
#include <ostream>

#include "reconciler/apply/executor.h"
#include "reconciler/apply/store_recorder.h"
#include "reconciler/os/fs.h"
#include "reconciler/plan/planner.h"
#include "reconciler/plan/render.h"

namespace banger::cli {
namespace {

std::string Seconds(std::chrono::milliseconds ms) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

// Line-per-event progress; one mutex because steps run in parallel.
class ProgressPrinter : public apply::ApplyEvents {
 public:
  explicit ProgressPrinter(Console& console) : console_(console) {}
  void StepStarted(const plan::Step& step) override {
    Line(step.address + ": " + std::string(plan::ActionName(step.action)) + "...");
  }
  void StepNote(const plan::Step& step, std::string_view note) override {
    Line(step.address + ": " + std::string(note));
  }
  void StepFinished(const plan::Step& step, const apply::StepOutcome& o) override {
    using S = apply::StepOutcome::State;
    if (o.state == S::kDone)
      Line(step.address + ": " + std::string(plan::ActionName(step.action)) + " done in " +
           Seconds(o.elapsed));
    else if (o.state == S::kFailed)
      Line(step.address + ": failed after " + Seconds(o.elapsed) + ": " + o.error->message());
    else
      Line(step.address + ": skipped (" + o.skipped_because + " did not converge)");
  }

 private:
  void Line(const std::string& s) {
    std::lock_guard<std::mutex> l(mu_);
    console_.out << s << std::endl;
  }
  Console& console_;
  std::mutex mu_;
};

// Asks before deletes and replaces; refuses without a terminal.
bool Confirm(Console& console, const plan::Plan& p, const ApplyOptions& options) {
  if (!p.has_destructive() || options.yes) return true;
  int n = 0;
  for (const auto& s : p.steps) n += s.destructive() ? 1 : 0;
  if (!console.in_tty) {
    console.err << "banger: error: the plan deletes or replaces " << n
                << (n == 1 ? " resource" : " resources")
                << "; refusing without a terminal to confirm. Review it with `banger plan`, "
                   "then run `banger apply --yes` to proceed.\n";
    return false;
  }
  console.out << "The plan deletes or replaces " << n
              << (n == 1 ? " resource." : " resources.") << " Apply it? [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer == "y" || answer == "yes") return true;
  console.out << "Apply cancelled; nothing changed.\n";
  return false;
}

int Execute(Console& console, Session& session, const plan::Plan& p,
            const specs::DesiredState& desired, const ApplyOptions& options) {
  if (!p.errors.empty()) return kExitError;
  // The rest converges, but the withheld deletions keep the host from
  // matching the spec: the run is not a success.
  const int incomplete = p.observation_complete ? kExitOk : kExitError;
  if (!p.has_changes()) return incomplete;
  if (!Confirm(console, p, options)) return kExitError;
  if (!session.snapshot.ok()) return Fail(console, session.snapshot.error());

  apply::StoreRecorder recorder(*session.store);
  ProgressPrinter printer(console);
  apply::ExecutorDeps deps;
  deps.kernels = session.runtime.kernels.get();
  deps.images = session.runtime.images.get();
  deps.vms = session.runtime.vms.get();
  deps.recorder = &recorder;
  deps.events = &printer;
  const store::StatePaths paths = session.paths;
  deps.lock_vm = [paths](const std::string& vm) -> Result<FileLock> {
    BANGER_RETURN_IF_ERROR(MakeDirs(paths.locks_dir(), 0700));
    return FileLock::Acquire(paths.vm_lock(vm));
  };
  apply::Executor executor(deps, options.parallelism);
  apply::ApplyResult result = executor.Run(p, desired, *session.snapshot);
  if (Status st = RefreshSshConfig(session); !st.ok())
    console.err << "warning: ssh config not updated: " << st.error().message() << "\n";
  if (result.ok()) {
    console.out << "Apply complete: " << plan::RenderCounts(p.counts()) << ".\n";
    if (!p.observation_complete)
      console.err << "banger: the host was not fully observed; deletions were withheld (see "
                     "the warnings above)\n";
    return incomplete;
  }
  console.out << "Apply failed: " << result.done << " done, " << result.failed << " failed, "
              << result.skipped << " skipped. Run `banger apply` again to resume.\n";
  for (const auto& o : result.outcomes)
    if (o.error) console.err << "banger: error: " << o.error->message() << "\n";
  return kExitError;
}

}  // namespace

Result<FileLock> LockStateDir(const store::StatePaths& paths) {
  BANGER_RETURN_IF_ERROR(MakeDirs(paths.root(), 0700));
  return FileLock::TryAcquire(paths.lock(), "state dir " + Quote(paths.root()));
}

int ApplySpecs(Console& console, Session& session, const ApplyOptions& options) {
  auto lock = LockStateDir(session.paths);
  if (!lock.ok()) return Fail(console, lock.error());
  // Re-read under the lock: the state may have moved since the session opened.
  session.snapshot = session.store->Load();
  plan::Plan p = plan::TargetPlan(
      PlanSession(session, {.refresh_images = options.refresh_images}), options.targets);
  console.out << plan::RenderText(p, {.color = console.color});
  return Execute(console, session, p, session.specs.state, options);
}

int ApplySavedPlan(Console& console, const std::string& path, const ApplyOptions& options) {
  auto saved = plan::LoadSavedPlan(path);
  if (!saved.ok()) return Fail(console, saved.error());
  auto session = OpenStateDir(saved->state_dir);
  if (!session.ok()) return Fail(console, session.error());
  auto lock = LockStateDir(session->paths);
  if (!lock.ok()) return Fail(console, lock.error());
  auto serial = session->store->Serial();
  if (!serial.ok()) return Fail(console, serial.error());
  if (*serial != saved->plan.serial) {
    return Fail(console, Error(Code::kStale,
                               "plan is stale: " + Quote(path) + " was made at state serial " +
                                   std::to_string(saved->plan.serial) + ", the state is now at " +
                                   std::to_string(*serial) + "; run `banger plan` again"));
  }
  session->snapshot = session->store->Load();
  // The saved plan carries the settings it was made with.
  auto runtime = MakeRuntime(session->paths, saved->desired.settings);
  if (!runtime.ok()) return Fail(console, runtime.error());
  session->runtime = std::move(runtime).value();
  console.out << plan::RenderText(saved->plan, {.color = console.color});
  return Execute(console, *session, saved->plan, saved->desired, options);
}

}  // namespace banger::cli
