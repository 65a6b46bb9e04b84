// banger vm logs NAME [-f]: the VM's console output.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <thread>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/session.h"
#include "reconciler/os/cancel.h"
#include "reconciler/os/fs.h"

namespace banger::cli {
namespace {

struct LogsArgs {
  std::string name;
  bool follow = false;
  StateArgs state;
};

int RunLogs(Console& console, const LogsArgs& args) {
  auto s = OpenState(args.state);
  if (!s.ok()) return Fail(console, s.error());
  const std::string log = JoinPath(s->paths.vm_dir(args.name), "console.log");
  if (!PathExists(log) && !PathExists(log + ".1")) {
    if (s->snapshot.ok() && !s->snapshot->vms.count(args.name))
      return Fail(console, NotFoundInState(*s, "vm", args.name));
    return Fail(console, NotFound("no console log for vm " + Quote(args.name) + " at " + Quote(log)));
  }
  // The logger rotates console.log to console.log.1 at its size cap.
  if (auto old = ReadFile(log + ".1"); old.ok()) console.out << *old;
  std::string cur = ReadFile(log).value_or("");
  console.out << cur << std::flush;
  if (!args.follow) return kExitOk;
  size_t offset = cur.size();
  // Until SIGINT/SIGTERM (os/cancel.h); Main turns that into 130/143.
  while (!CancelRequested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    struct stat st;
    if (stat(log.c_str(), &st) != 0) continue;
    if (static_cast<size_t>(st.st_size) < offset) offset = 0;  // rotated
    if (static_cast<size_t>(st.st_size) == offset) continue;
    auto text = ReadFile(log);
    if (!text.ok() || text->size() < offset) continue;
    console.out << text->substr(offset) << std::flush;
    offset = text->size();
  }
  return kExitOk;
}

}  // namespace

void AddVmLogsCommand(CLI::App* vm, Console& console, Command& command) {
  auto args = std::make_shared<LogsArgs>();
  CLI::App* cmd = vm->add_subcommand("logs", "print a VM's console output");
  cmd->add_option("name", args->name, "VM name")->required();
  cmd->add_flag("-f,--follow", args->follow, "keep printing new output");
  AddStateOptions(cmd, args->state, /*short_f=*/false);
  cmd->callback([&console, &command, args] {
    command.run = [&console, args] { return RunLogs(console, *args); };
  });
}

}  // namespace banger::cli
