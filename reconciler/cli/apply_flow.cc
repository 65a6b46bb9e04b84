#include "reconciler/cli/apply_flow.h"

#include "reconciler/base/crash_point.h"

#include <chrono>
#include <iostream>
#include <mutex>
#include <thread>
#include <ostream>

#include "reconciler/apply/executor.h"
#include "reconciler/apply/store_recorder.h"
#include "reconciler/cli/spec_snapshots.h"
#include "reconciler/daemon/daemon_files.h"
#include "reconciler/daemon/event_log.h"
#include "reconciler/os/cancel.h"
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

// The daemon keeps converging what was applied last; recorded once the
// plan is taken (an apply that fails part-way still names the intent).
void RecordAppliedFiles(Console& console, const Session& session, const ApplyOptions& options) {
  if (options.record_files.empty()) return;
  if (Status st = daemon::WriteAppliedSpecs(session.paths.root(), options.record_files); !st.ok())
    console.err << "warning: the daemon will not follow these files: " << st.error().message()
                << "\n";
}

int Execute(Console& console, Session& session, const plan::Plan& p,
            const specs::DesiredState& desired, const ApplyOptions& options) {
  if (!p.errors.empty()) return kExitError;
  // The rest converges, but the withheld deletions keep the host from
  // matching the spec: the run is not a success.
  const int incomplete = p.observation_complete ? kExitOk : kExitError;
  if (!p.has_changes()) {
    RecordAppliedFiles(console, session, options);
    return incomplete;
  }
  if (!Confirm(console, p, options)) return kExitError;
  RecordAppliedFiles(console, session, options);
  if (!session.snapshot.ok()) return Fail(console, session.snapshot.error());

  ProgressPrinter printer(console);
  daemon::EventRecorder events(session.paths.root(), "apply", &printer);
  apply::ApplyResult result =
      RunPlanSteps(console, session, p, desired, options.parallelism, events);
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

void ProgressPrinter::StepStarted(const plan::Step& step) {
  Line(step.address + ": " + std::string(plan::ActionName(step.action)) + "...");
}

void ProgressPrinter::StepNote(const plan::Step& step, std::string_view note) {
  Line(step.address + ": " + std::string(note));
}

void ProgressPrinter::StepFinished(const plan::Step& step, const apply::StepOutcome& o) {
  using S = apply::StepOutcome::State;
  if (o.state == S::kDone)
    Line(step.address + ": " + std::string(plan::ActionName(step.action)) + " done in " +
         Seconds(o.elapsed));
  else if (o.state == S::kFailed)
    Line(step.address + ": failed after " + Seconds(o.elapsed) + ": " + o.error->message());
  else
    Line(step.address + ": skipped (" + o.skipped_because + " did not converge)");
}

void ProgressPrinter::Line(const std::string& s) {
  std::lock_guard<std::mutex> l(mu_);
  console_.out << s << std::endl;
  // Each line is a step boundary a crash test may stop at (under the lock:
  // points are numbered in the order their lines appear).
  CrashPoint(s);
}

apply::ApplyResult RunPlanSteps(Console& console, Session& session, const plan::Plan& p,
                                const specs::DesiredState& desired, int parallelism,
                                apply::ApplyEvents& events) {
  apply::StoreRecorder recorder(*session.store);
  apply::ExecutorDeps deps;
  deps.kernels = session.runtime.kernels.get();
  deps.images = session.runtime.images.get();
  deps.vms = session.runtime.vms.get();
  deps.recorder = &recorder;
  deps.events = &events;
  const store::StatePaths paths = session.paths;
  deps.lock_vm = [paths](const std::string& vm) -> Result<FileLock> {
    BANGER_RETURN_IF_ERROR(MakeDirs(paths.locks_dir(), 0700));
    return FileLock::Acquire(paths.vm_lock(vm));
  };
  std::unique_ptr<SpecSnapshots> snapshots;
  if (session.runtime.snapshots) {
    auto opened = SpecSnapshots::Open(session.paths, *session.runtime.snapshots);
    if (opened.ok()) {
      snapshots = std::move(opened).value();
      deps.snapshots = snapshots.get();
    } else {
      // Snapshot and clone steps then fail naming the missing store.
      console.err << "warning: snapshot store: " << opened.error().message() << "\n";
    }
  }
  apply::Executor executor(deps, parallelism);
  apply::ApplyResult result = executor.Run(p, desired, *session.snapshot);
  if (Status st = RefreshSshConfig(session); !st.ok())
    console.err << "warning: ssh config not updated: " << st.error().message() << "\n";
  return result;
}

Result<FileLock> LockStateDirWaitingForDaemon(Console& console, const store::StatePaths& paths,
                                              std::chrono::seconds daemon_wait) {
  auto lock = LockStateDir(paths);
  if (lock.ok() || lock.error().code() != Code::kBusy) return lock;
  const pid_t holder = FileLock::HolderPid(paths.lock());
  auto status = daemon::ReadDaemonStatus(paths.root());
  const bool daemon_holds = holder > 0 && status.ok() && *status && (*status)->pid == holder &&
                            daemon::DaemonAlive(**status, time(nullptr));
  if (!daemon_holds) return lock;
  console.err << "waiting up to " << daemon_wait.count() << " s for the banger daemon (pid "
              << holder << ") to finish its cycle..." << std::endl;
  const auto deadline = std::chrono::steady_clock::now() + daemon_wait;
  while (std::chrono::steady_clock::now() < deadline) {
    BANGER_RETURN_IF_ERROR(CheckCancelled("waiting for the state dir lock"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    lock = LockStateDir(paths);
    if (lock.ok() || lock.error().code() != Code::kBusy) return lock;
  }
  return Error(Code::kBusy, "state dir " + Quote(paths.root()) + " is still locked by the banger "
                            "daemon (pid " + std::to_string(holder) + ") after " +
                            std::to_string(daemon_wait.count()) +
                            " s; try again, or see `banger events` for what it is doing");
}

Result<FileLock> LockStateDir(const store::StatePaths& paths) {
  BANGER_RETURN_IF_ERROR(MakeDirs(paths.root(), 0700));
  return FileLock::TryAcquire(paths.lock(), "state dir " + Quote(paths.root()));
}

int ApplySpecs(Console& console, Session& session, const ApplyOptions& options) {
  auto lock = LockStateDirWaitingForDaemon(console, session.paths, options.daemon_lock_wait);
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
  auto lock = LockStateDirWaitingForDaemon(console, session->paths, options.daemon_lock_wait);
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
