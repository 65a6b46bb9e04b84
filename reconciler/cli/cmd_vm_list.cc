// banger vm list (ps) [--all] [--quiet] [--json]; banger vm show NAME [--json]
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/field_view.h"
#include "reconciler/cli/session.h"
#include "specs/loader.h"

namespace banger::cli {
namespace {

struct VmRow {
  const model::VmRecord* rec;
  model::VmLiveness live;
  std::string state;  // running | stopped | dead
};

std::vector<VmRow> Rows(Session& s, Console& console) {
  std::vector<VmRow> rows;
  for (const auto& [name, rec] : s.snapshot->vms) {
    VmRow row{&rec, {}, ""};
    auto live = s.runtime.vms->Observe(name);
    if (live.ok()) row.live = *live;
    else console.err << "warning: vm " << Quote(name) << ": " << live.error().message() << "\n";
    if (row.live.process_running) row.state = "running";
    else if (rec.power == model::PowerIntent::kStopped) row.state = "stopped";
    else row.state = "dead";  // should run, does not: drift
    rows.push_back(std::move(row));
  }
  return rows;
}

nlohmann::json RowJson(const VmRow& r) {
  const auto& spec = r.rec->spec;
  return {{"name", spec.name},     {"state", r.state},
          {"ip", r.rec->ip},       {"image", spec.image},
          {"kernel", spec.kernel}, {"vcpus", spec.vcpus},
          {"memory", specs::FormatSize(spec.memory)}, {"disk", specs::FormatSize(spec.disk)},
          {"nat", spec.nat},       {"labels", spec.labels},
          {"origin", model::OriginName(r.rec->origin)},
          {"vmm", r.live.handles.vmm}, {"accel", r.live.handles.accel},
          {"pid", r.live.process_running ? r.live.handles.pid : 0},
          {"tap", r.live.handles.tap}, {"rootfs", r.live.handles.rootfs},
          {"cow_method", r.live.handles.cow_method},
          {"work_disk", r.live.handles.work_disk},
          {"console_log", r.live.handles.console_log}};
}

struct ListArgs {
  bool all = false, quiet = false, json = false;
  StateArgs state;
};

int RunList(Console& console, const ListArgs& args) {
  auto s = OpenState(args.state);
  if (!s.ok()) return Fail(console, s.error());
  if (!s->snapshot.ok()) return Fail(console, s->snapshot.error());
  std::vector<VmRow> rows = Rows(*s, console);
  std::erase_if(rows, [&](const VmRow& r) { return !args.all && r.state != "running"; });
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) out.push_back(RowJson(r));
    console.out << out.dump(2) << "\n";
    return kExitOk;
  }
  if (rows.empty() && !args.quiet) {
    const bool any = !s->snapshot->vms.empty();
    console.err << "no " << (any ? "running VMs" : "VMs") << " in " << DescribeStateDir(*s)
                << (any ? "; --all lists stopped ones" : "") << "\n";
    return kExitOk;
  }
  if (args.quiet) {
    for (const auto& r : rows) console.out << r.rec->spec.name << "\n";
    return kExitOk;
  }
  console.out << std::left << std::setw(16) << "NAME" << std::setw(9) << "STATE"
              << std::setw(16) << "IP" << std::setw(14) << "IMAGE" << std::setw(6) << "CPUS"
              << std::setw(8) << "MEMORY" << std::setw(12) << "VMM" << "PID\n";
  for (const auto& r : rows) {
    const auto& spec = r.rec->spec;
    std::string vmm = r.live.handles.vmm.empty() ? "-" : r.live.handles.vmm + "/" + r.live.handles.accel;
    console.out << std::left << std::setw(16) << spec.name << std::setw(9) << r.state
                << std::setw(16) << (r.rec->ip.empty() ? "-" : r.rec->ip) << std::setw(14)
                << spec.image << std::setw(6) << spec.vcpus << std::setw(8)
                << specs::FormatSize(spec.memory) << std::setw(12)
                << (r.state == "running" ? vmm : "-")
                << (r.state == "running" ? std::to_string(r.live.handles.pid) : "-") << "\n";
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
  auto it = s->snapshot->vms.find(args.name);
  if (it == s->snapshot->vms.end()) return Fail(console, NotFoundInState(*s, "vm", args.name));
  for (const auto& r : Rows(*s, console)) {
    if (r.rec->spec.name != args.name) continue;
    if (args.json) console.out << RowJson(r).dump(2) << "\n";
    else PrintFields(console, RowJson(r));
    return kExitOk;
  }
  return Fail(console, NotFoundInState(*s, "vm", args.name));
}

}  // namespace

void AddVmListCommands(CLI::App* vm, Console& console, Command& command) {
  auto args = std::make_shared<ListArgs>();
  CLI::App* list = vm->add_subcommand("list", "list running VMs (--all: every VM)");
  list->alias("ps");
  list->add_flag("-a,--all", args->all, "include stopped and dead VMs");
  list->add_flag("-q,--quiet", args->quiet, "names only");
  list->add_flag("--json", args->json, "JSON output: an array of `vm show --json` objects");
  AddStateOptions(list, args->state);
  list->callback([&console, &command, args] {
    command.run = [&console, args] { return RunList(console, *args); };
  });
  auto show_args = std::make_shared<ShowArgs>();
  CLI::App* show = vm->add_subcommand("show", "everything banger knows about one VM");
  show->add_option("name", show_args->name, "VM name")->required();
  show->add_flag("--json", show_args->json, "JSON output");
  AddStateOptions(show, show_args->state);
  show->callback([&console, &command, show_args] {
    command.run = [&console, show_args] { return RunShow(console, *show_args); };
  });
}

}  // namespace banger::cli
