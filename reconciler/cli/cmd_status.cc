// banger status [--json]: each VM's desired and actual state, the daemon's
// repairs and last error, and whether the daemon runs.
// banger events [--follow] [--json] [-n N]: the state dir's event log.
#include <sys/stat.h>

#include <ctime>
#include <ostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "reconciler/base/version.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/session.h"
#include "reconciler/daemon/daemon_files.h"
#include "reconciler/daemon/event_log.h"
#include "reconciler/os/cancel.h"

namespace banger::cli {
namespace {

using nlohmann::json;

json DaemonJson(Console& console, const std::string& state_dir,
                const std::optional<daemon::DaemonStatus>& d) {
  const int64_t now = time(nullptr);
  if (!d) return {{"running", false}, {"note", "no daemon has run for this state dir"}};
  json j = {{"running", daemon::DaemonAlive(*d, now)},
            {"pid", d->pid},
            {"build", d->build},
            {"same_build", d->build == BuildString()},
            {"heartbeat_age_seconds", now - d->heartbeat_at},
            {"interval_seconds", d->interval_seconds},
            {"last_cycle_error", d->last_cycle_error}};
  if (j["running"].get<bool>() && d->build != BuildString())
    console.err << "warning: the daemon for " << Quote(state_dir) << " is another build ("
                << d->build << "); restart it to run this one\n";
  return j;
}

int RunStatus(Console& console, const StateArgs& state, bool as_json) {
  auto s = OpenState(state);
  if (!s.ok()) return Fail(console, s.error());
  if (!s->snapshot.ok()) return Fail(console, s->snapshot.error());
  auto d = daemon::ReadDaemonStatus(s->paths.root());
  if (!d.ok()) return Fail(console, d.error());
  json out = {{"state_dir", s->paths.root()}, {"daemon", DaemonJson(console, s->paths.root(), *d)}};
  auto applied = daemon::ReadAppliedSpecs(s->paths.root());
  out["applied_files"] = applied.ok() ? *applied : std::vector<std::string>();
  out["vms"] = json::array();
  for (const auto& [name, rec] : s->snapshot->vms) {
    auto live = s->runtime.vms->Observe(name);
    const bool up = live.ok() && live->process_running;
    const bool want_up = rec.power != model::PowerIntent::kStopped;
    json vm = {{"name", name},
               {"desired", want_up ? "running" : "stopped"},
               {"actual", up ? "running" : "not running"},
               {"converged", up == want_up},
               {"restart", std::string(specs::RestartPolicyName(rec.spec.restart))},
               {"origin", model::OriginName(rec.origin)},
               {"restarts", 0}};
    if (!live.ok()) vm["observe_error"] = live.error().message();
    if (*d) {
      auto it = (*d)->vms.find(name);
      if (it != (*d)->vms.end()) {
        vm["restarts"] = it->second.restarts;
        vm["last_error"] = it->second.last_error;
        vm["waiting"] = it->second.waiting_for_apply;
      }
    }
    out["vms"].push_back(vm);
  }
  if (as_json) {
    console.out << out.dump(2) << "\n";
    return kExitOk;
  }
  const json& dj = out["daemon"];
  if (dj["running"].get<bool>())
    console.out << "daemon: running (pid " << dj["pid"] << ", last cycle "
                << dj["heartbeat_age_seconds"] << " s ago, every " << dj["interval_seconds"]
                << " s)\n";
  else
    console.out << "daemon: not running for " << DescribeStateDir(*s)
                << "; VMs that die stay down until `banger apply` (see `banger system install`)\n";
  if (dj.contains("last_cycle_error") && !dj["last_cycle_error"].get<std::string>().empty())
    console.out << "daemon error: " << dj["last_cycle_error"].get<std::string>() << "\n";
  for (const auto& vm : out["vms"]) {
    console.out << vm["name"].get<std::string>() << ": " << vm["actual"].get<std::string>()
                << " (wants " << vm["desired"].get<std::string>() << ", restart "
                << vm["restart"].get<std::string>() << ", " << vm["restarts"] << " restarts)";
    if (vm.contains("waiting") && !vm["waiting"].get<std::string>().empty())
      console.out << "; held: " << vm["waiting"].get<std::string>();
    if (vm.contains("last_error") && !vm["last_error"].get<std::string>().empty())
      console.out << "; last error: " << vm["last_error"].get<std::string>();
    console.out << "\n";
  }
  return kExitOk;
}

struct EventsArgs {
  StateArgs state;
  bool follow = false, json = false;
  int last = 0;  // 0: all
};

void PrintEvents(Console& console, const std::vector<daemon::Event>& events, bool as_json) {
  for (const auto& e : events)
    console.out << (as_json ? daemon::EventToJson(e) : daemon::FormatEventLine(e)) << "\n";
  console.out.flush();
}

int RunEvents(Console& console, const EventsArgs& args) {
  auto where = ResolveStateArgs(args.state);
  if (!where.ok()) return Fail(console, where.error());
  const std::string path = daemon::EventsPath(where->dir);
  auto batch = daemon::ReadEvents(path, 0);
  if (!batch.ok()) return Fail(console, batch.error());
  auto& events = batch->events;
  if (args.last > 0 && events.size() > static_cast<size_t>(args.last))
    events.erase(events.begin(), events.end() - args.last);
  PrintEvents(console, events, args.json);
  if (!args.follow) return kExitOk;
  uint64_t offset = batch->next_offset;
  while (!CancelRequested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    struct stat st {};
    // Rotated (the file is new and shorter): read the new one from its start.
    if (stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) < offset) offset = 0;
    auto more = daemon::ReadEvents(path, offset);
    if (!more.ok()) return Fail(console, more.error());
    PrintEvents(console, more->events, args.json);
    offset = more->next_offset;
  }
  ConsumeCancel();  // Ctrl-C is how --follow ends
  return kExitOk;
}

}  // namespace

void AddStatusCommands(CLI::App& app, Console& console, Command& command) {
  auto state = std::make_shared<StateArgs>();
  auto as_json = std::make_shared<bool>(false);
  CLI::App* status = app.add_subcommand(
      "status", "each VM's desired and actual state, its restarts and last error, and the daemon");
  AddStateOptions(status, *state);
  status->add_flag("--json", *as_json, "JSON output");
  status->callback([&console, &command, state, as_json] {
    command.run = [&console, state, as_json] { return RunStatus(console, *state, *as_json); };
  });

  auto args = std::make_shared<EventsArgs>();
  CLI::App* events = app.add_subcommand(
      "events", "what happened to the fleet: steps started/done/failed, drift, repairs (with times)");
  AddStateOptions(events, args->state, /*short_f=*/false);
  events->add_flag("--follow", args->follow, "keep printing new events until Ctrl-C");
  events->add_flag("--json", args->json, "one JSON object per line");
  events->add_option("-n,--last", args->last, "only the last N events")->check(CLI::PositiveNumber);
  events->callback([&console, &command, args] {
    command.run = [&console, args] { return RunEvents(console, *args); };
  });
}

}  // namespace banger::cli
