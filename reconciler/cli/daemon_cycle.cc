#include "reconciler/cli/daemon_cycle.h"

#include <poll.h>
#include <unistd.h>

#include <ctime>
#include <ostream>

#include "reconciler/base/version.h"
#include "reconciler/cli/apply_flow.h"
#include "reconciler/cli/session.h"
#include "reconciler/daemon/repair_policy.h"
#include "reconciler/os/cancel.h"
#include "reconciler/os/file_watcher.h"
#include "reconciler/os/process.h"
#include "reconciler/store/handles_file.h"

namespace banger::cli {
namespace {

// What Linux prints on the console when the guest powers itself off.
constexpr const char* kPowerDownLine = "reboot: Power down";

bool GuestPoweredOff(const store::StatePaths& paths, const std::string& vm) {
  auto handles = store::ReadHandles(paths.handles(vm));
  if (!handles.ok() || !*handles || (*handles)->console_log.empty()) return false;
  return ReadFileTail((*handles)->console_log, 4096).find(kPowerDownLine) != std::string::npos;
}

std::string VmOf(const std::string& address) {
  const std::string prefix = "vm.";
  return address.rfind(prefix, 0) == 0 ? address.substr(prefix.size()) : "";
}

}  // namespace

DaemonCycle::DaemonCycle(Console& console, const DaemonOptions& options)
    : console_(console), options_(options), log_(options.state_dir, "daemon", nullptr) {
  status_.pid = getpid();
  status_.pid_start_ticks = ProcessStartTicks(status_.pid);
  status_.build = BuildString();
  status_.started_at = time(nullptr);
  status_.interval_seconds = interval_seconds();
}

int DaemonCycle::interval_seconds() const {
  return options_.interval_override > 0 ? options_.interval_override : settings_interval_;
}

void DaemonCycle::WriteStatus() {
  status_.heartbeat_at = time(nullptr);
  status_.interval_seconds = interval_seconds();
  if (Status st = daemon::WriteDaemonStatus(options_.state_dir, status_); !st.ok())
    console_.err << "banger daemon: " << st.error().message() << std::endl;
}

void DaemonCycle::CycleError(const std::string& message) {
  status_.last_cycle_error = message;
  ReportOnce("cycle-error", "", message, message);
  console_.err << "banger daemon: " << message << std::endl;
}

void DaemonCycle::ReportOnce(const std::string& kind, const std::string& address,
                             const std::string& key, const std::string& message) {
  const std::string k = kind + "|" + address + "|" + key;
  reporting_.insert(k);
  if (reported_.count(k)) return;
  log_.Log(kind, address, message);
  console_.out << (address.empty() ? "" : address + ": ") << kind << ": " << message << std::endl;
}

void DaemonCycle::Run() {
  reporting_.clear();
  status_.last_cycle_error.clear();
  // reported_ becomes what this cycle reported, however it ends.
  struct Rotate {
    DaemonCycle* self;
    ~Rotate() { self->reported_ = self->reporting_; }
  } rotate{this};

  auto files = daemon::ReadAppliedSpecs(options_.state_dir);
  if (!files.ok()) return CycleError(files.error().message());
  files_ = *files;
  if (files_.empty()) return;  // nothing applied here yet
  auto session = OpenSession(files_, options_.state_dir);
  if (!session.ok()) return CycleError(session.error().message());
  if (!session->specs.errors.empty()) {
    return CycleError("the applied spec files do not load (" +
                      session->specs.errors.front().ToString() + "); waiting for a fix");
  }
  settings_interval_ = session->specs.state.settings.daemon_interval;
  auto lock = LockStateDir(session->paths);
  if (!lock.ok()) {
    if (lock.error().code() == Code::kBusy) {
      // An apply runs and converges; say so, in case it is something else.
      status_.last_cycle_error = "cycle skipped: " + lock.error().message();
      ReportOnce("cycle-skipped", "", "busy", status_.last_cycle_error);
      return;
    }
    return CycleError(lock.error().message());
  }
  session->snapshot = session->store->Load();
  if (!session->snapshot.ok()) return CycleError(session->snapshot.error().message());
  plan::Plan p = PlanSession(*session, {});
  for (const auto& e : p.errors) CycleError("plan: " + e);
  if (!p.errors.empty()) return;
  for (const auto& d : p.drift) ReportOnce("drift", d.address, d.what, d.what);
  for (const auto& w : p.withheld) ReportOnce("held", w.address, "withheld", "deletion withheld: " + w.reason);

  daemon::PolicyInputs in;
  in.plan = &p;
  in.desired = &session->specs.state;
  in.vms = &status_.vms;
  in.now = time(nullptr);
  std::set<std::string> changing;
  for (const auto& step : p.steps)
    if (!VmOf(step.address).empty()) changing.insert(step.name);
  for (const auto& name : changing)
    if (GuestPoweredOff(session->paths, name)) in.powered_off.insert(name);
  daemon::DaemonPlan dp = daemon::SelectDaemonSteps(in);

  for (auto& [name, v] : status_.vms) v.waiting_for_apply.clear();
  for (const auto& h : dp.held) {
    const std::string vm = VmOf(h.address);
    if (!vm.empty()) status_.vms[vm].waiting_for_apply = h.reason;
    // Backoff reasons carry a countdown: report the hold once per episode.
    ReportOnce("held", h.address, h.reason.substr(0, h.reason.find(';')), h.reason);
  }

  std::set<std::string> running;
  for (const auto& [name, rec] : session->snapshot->vms)
    if (rec.power != model::PowerIntent::kStopped && !changing.count(name)) running.insert(name);

  std::set<std::string> repaired;
  std::map<std::string, std::string> failed;
  if (!dp.run.steps.empty()) {
    ProgressPrinter printer(console_);
    daemon::EventRecorder events(options_.state_dir, "daemon", &printer);
    apply::ApplyResult result = RunPlanSteps(console_, *session, dp.run, session->specs.state,
                                             /*parallelism=*/4, events);
    using S = apply::StepOutcome::State;
    for (const auto& o : result.outcomes) {
      const std::string vm = VmOf(o.address);
      if (!dp.repairs.count(vm)) continue;
      if (o.state == S::kDone) {
        repaired.insert(vm);
        log_.Log("repaired", o.address, "restarted by the daemon");
      } else {
        std::string why = o.error ? o.error->message() : o.skipped_because + " did not converge";
        failed[vm] = why;
        log_.Log("repair-failed", o.address, why);
      }
    }
    if (!result.ok()) status_.last_cycle_error = std::to_string(result.failed) + " step(s) failed";
  }
  // Forget VMs that are no longer in the store.
  for (auto it = status_.vms.begin(); it != status_.vms.end();)
    it = session->snapshot->vms.count(it->first) ? std::next(it) : status_.vms.erase(it);
  daemon::RecordRepairs(status_.vms, repaired, failed, running, time(nullptr));
}

int RunDaemon(Console& console, const DaemonOptions& options) {
  if (Status st = InstallCancelHandlers(); !st.ok()) return Fail(console, st.error());
  DaemonCycle cycle(console, options);
  cycle.log().Log("daemon-started", "", "pid " + std::to_string(getpid()) + ", " + BuildString());
  console.out << "banger daemon: keeping state dir " << Quote(options.state_dir)
              << " converged (pid " << getpid() << ")" << std::endl;
  while (!CancelRequested()) {
    cycle.Run();
    cycle.WriteStatus();
    if (CancelRequested()) break;
    // Wake early when an applied file or the applied list changes.
    std::vector<std::string> watched = cycle.files();
    watched.push_back(daemon::AppliedPath(options.state_dir));
    const auto interval = std::chrono::seconds(cycle.interval_seconds());
    auto watcher = FileWatcher::Create(watched);
    if (watcher.ok()) {
      auto woke = watcher->WaitForChange(std::chrono::milliseconds(300), CancelWakeFd(), interval);
      if (!woke.ok()) console.err << "banger daemon: " << woke.error().message() << std::endl;
    } else {
      // A watched directory may be gone (a spec file deleted with its
      // directory): fall back to the interval alone.
      pollfd fd{CancelWakeFd(), POLLIN, 0};
      poll(&fd, 1, static_cast<int>(interval.count() * 1000));
    }
  }
  ConsumeCancel();  // SIGTERM is how the daemon is meant to stop
  cycle.log().Log("daemon-stopped", "", "signal");
  console.out << "banger daemon: stopped" << std::endl;
  return kExitOk;
}

}  // namespace banger::cli
