// banger vm stop|start|restart|rm NAME...
#include <iostream>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/vm_ops.h"

namespace banger::cli {
namespace {

class PrintProgress : public apply::StepProgress {
 public:
  PrintProgress(Console& console, std::string name) : console_(console), name_(std::move(name)) {}
  void Note(std::string_view message) override {
    console_.out << "vm." << name_ << ": " << message << std::endl;
  }

 private:
  Console& console_;
  std::string name_;
};

struct LifecycleArgs {
  std::vector<std::string> names;
  StateArgs state;
};

int RunLifecycle(Console& console, VmOp op, const char* done, const LifecycleArgs& args) {
  auto session = OpenState(args.state);
  if (!session.ok()) return Fail(console, session.error());
  int rc = kExitOk;
  for (const auto& name : args.names) {
    PrintProgress progress(console, name);
    Status st = RunVmOp(*session, name, op, progress);
    if (!st.ok()) {
      rc = Fail(console, st.error().WithContext("vm " + Quote(name)));
      continue;
    }
    console.out << "vm." << name << ": " << done << "\n";
  }
  return rc;
}

void AddOne(CLI::App* vm, Console& console, Command& command, const char* verb,
            const char* help, VmOp op, const char* done) {
  auto args = std::make_shared<LifecycleArgs>();
  CLI::App* cmd = vm->add_subcommand(verb, help);
  cmd->add_option("name", args->names, "VM names")->required();
  AddStateOptions(cmd, args->state);
  cmd->callback([&console, &command, args, op, done] {
    command.run = [&console, args, op, done] { return RunLifecycle(console, op, done, *args); };
  });
}

}  // namespace

void AddVmLifecycleCommands(CLI::App* vm, Console& console, Command& command) {
  AddOne(vm, console, command, "stop", "shut VMs down (graceful, then killed after a timeout)",
         VmOp::kStop, "stopped");
  AddOne(vm, console, command, "start", "boot stopped VMs", VmOp::kStart, "started");
  AddOne(vm, console, command, "restart", "stop and boot VMs again", VmOp::kRestart,
         "restarted");
  AddOne(vm, console, command, "rm", "delete VMs and their disks", VmOp::kRemove, "removed");
}

}  // namespace banger::cli
