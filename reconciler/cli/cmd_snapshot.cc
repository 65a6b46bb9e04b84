// banger vm snapshot NAME [--as SNAP]; banger vm restore NAME SNAP;
// banger snapshot list [--json] | show SNAP [--json] | rm SNAP...
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/field_view.h"
#include "reconciler/cli/snapshot_ops.h"
#include "reconciler/snapshot/compat.h"

namespace banger::cli {
namespace {

using snapshot::FormatBytes;

class VmProgress : public apply::StepProgress {
 public:
  VmProgress(Console& console, std::string name) : console_(console), name_(std::move(name)) {}
  void Note(std::string_view message) override {
    console_.out << "vm." << name_ << ": " << message << std::endl;
  }

 private:
  Console& console_;
  std::string name_;
};

std::string Seconds(std::chrono::milliseconds ms) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

std::string Time(int64_t unix_time) {
  time_t t = static_cast<time_t>(unix_time);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

// Disk usage of a snapshot now (allocated blocks; zero when its dir is gone).
snapshot::SpaceUsage UsageOf(const model::SnapshotRecord& r) {
  auto u = snapshot::MeasureDir(r.dir);
  return u.ok() ? *u : snapshot::SpaceUsage{};
}

nlohmann::json SnapshotJson(const model::StoreSnapshot& snap, const model::SnapshotRecord& r) {
  nlohmann::json j = model::SnapshotMetaToJson(r.meta);
  const snapshot::SpaceUsage u = UsageOf(r);
  j["dir"] = r.dir;
  j["origin"] = model::OriginName(r.origin);
  j["apparent_bytes"] = u.apparent;
  j["allocated_bytes"] = u.allocated;
  j["restored_vms"] = VmsRestoredFrom(snap, r.meta.name);
  return j;
}

struct TakeArgs {
  std::string vm;
  std::string as;
  StateArgs state;
};

int RunTake(Console& console, const TakeArgs& args) {
  auto s = OpenState(args.state);
  if (!s.ok()) return Fail(console, s.error());
  std::string name = args.as;
  if (name.empty()) {
    auto made = DefaultSnapshotName(args.vm, static_cast<int64_t>(time(nullptr)));
    if (!made.ok()) return Fail(console, made.error());
    name = *made;
  }
  VmProgress progress(console, args.vm);
  auto report = TakeSnapshot(*s, args.vm, name, progress);
  if (!report.ok()) return Fail(console, report.error());
  const model::SnapshotMeta& m = report->record.meta;
  uint64_t disks = 0;
  for (const auto& d : m.disks) disks += d.allocated_bytes;
  console.out << "vm." << args.vm << ": snapshot " << Quote(name) << " taken in "
              << Seconds(report->total) << " (paused " << Seconds(report->paused) << "): state "
              << FormatBytes(m.state_bytes + m.memory_file_bytes) << ", disks "
              << FormatBytes(disks) << ", " << FormatBytes(report->usage.allocated)
              << " written\n";
  return kExitOk;
}

struct RestoreArgs {
  std::string vm;
  std::string snapshot;
  StateArgs state;
};

int RunRestore(Console& console, const RestoreArgs& args) {
  auto s = OpenState(args.state);
  if (!s.ok()) return Fail(console, s.error());
  VmProgress progress(console, args.vm);
  auto report = RestoreSnapshot(*s, args.vm, args.snapshot, progress);
  if (Status ssh = RefreshSshConfig(*s); !ssh.ok() && report.ok()) return Fail(console, ssh.error());
  if (!report.ok()) return Fail(console, report.error());
  console.out << "vm." << args.vm << ": restored from snapshot " << Quote(args.snapshot) << " in "
              << Seconds(report->total)
              << (report->boot_id.empty() ? "" : " (boot id " + report->boot_id.substr(0, 8) + ")")
              << "\n";
  return kExitOk;
}

struct ListArgs {
  bool json = false;
  StateArgs state;
};

int RunList(Console& console, const ListArgs& args) {
  auto s = OpenState(args.state);
  if (!s.ok()) return Fail(console, s.error());
  if (!s->snapshot.ok()) return Fail(console, s->snapshot.error());
  const model::StoreSnapshot& snap = *s->snapshot;
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [name, r] : snap.snapshots) out.push_back(SnapshotJson(snap, r));
    console.out << out.dump(2) << "\n";
    return kExitOk;
  }
  if (snap.snapshots.empty()) {
    console.err << "no snapshots in " << DescribeStateDir(*s) << "\n";
    return kExitOk;
  }
  console.out << std::left << std::setw(22) << "NAME" << std::setw(16) << "VM" << std::setw(8)
              << "VMM" << std::setw(9) << "MEMORY" << std::setw(22) << "CREATED" << std::setw(11)
              << "DISK USE" << "RESTORED VMS\n";
  for (const auto& [name, r] : snap.snapshots) {
    std::string restored;
    for (const auto& vm : VmsRestoredFrom(snap, name)) restored += (restored.empty() ? "" : ",") + vm;
    console.out << std::left << std::setw(22) << name << std::setw(16) << r.meta.source_vm
                << std::setw(8) << r.meta.vmm << std::setw(9) << FormatBytes(r.meta.memory_bytes)
                << std::setw(22) << Time(r.meta.created_unix) << std::setw(11)
                << FormatBytes(UsageOf(r).allocated) << (restored.empty() ? "-" : restored)
                << "\n";
  }
  return kExitOk;
}

struct ShowArgs {
  std::string name;
  bool json = false;
  StateArgs state;
};

int RunShow(Console& console, const ShowArgs& args) {
  auto s = OpenState(args.state);
  if (!s.ok()) return Fail(console, s.error());
  if (!s->snapshot.ok()) return Fail(console, s->snapshot.error());
  auto it = s->snapshot->snapshots.find(args.name);
  if (it == s->snapshot->snapshots.end())
    return Fail(console, NotFoundInState(*s, "snapshot", args.name));
  nlohmann::json j = SnapshotJson(*s->snapshot, it->second);
  if (args.json) console.out << j.dump(2) << "\n";
  else PrintFields(console, j);
  return kExitOk;
}

struct RemoveArgs {
  std::vector<std::string> names;
  StateArgs state;
};

int RunRemove(Console& console, const RemoveArgs& args) {
  auto s = OpenState(args.state);
  if (!s.ok()) return Fail(console, s.error());
  int rc = kExitOk;
  for (const auto& name : args.names) {
    Status st = RemoveSnapshot(*s, name);
    if (!st.ok()) {
      rc = Fail(console, st.error());
      continue;
    }
    console.out << "snapshot." << name << ": removed\n";
  }
  return rc;
}

template <typename Args, typename Fn>
void OnRun(CLI::App* cmd, Console& console, Command& command, std::shared_ptr<Args> args, Fn fn) {
  cmd->callback([&console, &command, args, fn] {
    command.run = [&console, args, fn] { return fn(console, *args); };
  });
}

}  // namespace

void AddVmSnapshotCommands(CLI::App* vm, Console& console, Command& command) {
  auto take = std::make_shared<TakeArgs>();
  CLI::App* t = vm->add_subcommand(
      "snapshot", "save a running VM's memory, devices and disks as a snapshot (it keeps running)");
  t->add_option("name", take->vm, "VM name")->required();
  t->add_option("--as", take->as, "snapshot name (default: <vm>-YYMMDD-HHMMSS, UTC)");
  AddStateOptions(t, take->state);
  OnRun(t, console, command, take, RunTake);

  auto restore = std::make_shared<RestoreArgs>();
  CLI::App* r = vm->add_subcommand("restore", "return a VM to the point one of its snapshots saved");
  r->add_option("name", restore->vm, "VM name")->required();
  r->add_option("snapshot", restore->snapshot, "snapshot name")->required();
  AddStateOptions(r, restore->state);
  OnRun(r, console, command, restore, RunRestore);
}

void AddSnapshotCommands(CLI::App& app, Console& console, Command& command) {
  CLI::App* snap = app.add_subcommand("snapshot", "list, show and remove VM snapshots");
  snap->require_subcommand(1);
  auto list = std::make_shared<ListArgs>();
  CLI::App* l = snap->add_subcommand("list", "snapshots with their disk use (allocated bytes)");
  l->add_flag("--json", list->json, "JSON output: an array of `snapshot show --json` objects");
  AddStateOptions(l, list->state);
  OnRun(l, console, command, list, RunList);

  auto show = std::make_shared<ShowArgs>();
  CLI::App* s = snap->add_subcommand("show", "everything recorded about one snapshot");
  s->add_option("name", show->name, "snapshot name")->required();
  s->add_flag("--json", show->json, "JSON output");
  AddStateOptions(s, show->state);
  OnRun(s, console, command, show, RunShow);

  auto rm = std::make_shared<RemoveArgs>();
  CLI::App* r = snap->add_subcommand("rm", "delete snapshots (refused while a VM is restored from one)");
  r->add_option("name", rm->names, "snapshot names")->required();
  AddStateOptions(r, rm->state);
  OnRun(r, console, command, rm, RunRemove);
}

}  // namespace banger::cli
