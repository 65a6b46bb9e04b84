// banger vm exec NAME -- CMD... (the guest agent, SSH as fallback);
// banger vm ssh NAME [-- CMD...] (always SSH);
// banger ssh-config install|uninstall.
#include <unistd.h>

#include <iostream>

#include "reconciler/access/ssh_client_config.h"
#include "reconciler/access/ssh_guest_access.h"
#include "reconciler/cli/agent_exec_flow.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/session.h"
#include "reconciler/os/fs.h"

namespace banger::cli {
namespace {

struct AccessArgs {
  std::string name;
  std::vector<std::string> command;
  StateArgs state;
  std::string via = "auto";
  std::vector<std::string> env;
  std::string cwd;
  bool tty = false;
};

// How long `vm exec --via auto` gives the agent to answer before using SSH
// (QEMU's virtio-serial chardev serves one client at a time: a second
// concurrent exec waits for the first).
constexpr std::chrono::seconds kAgentConnectTimeout(5);

struct RunningVm {
  std::string ip;
  model::VmHandles handles;
};

// The address and handles of a running VM.
Result<RunningVm> FindRunningVm(Session& s, const std::string& name) {
  if (!s.snapshot.ok()) return s.snapshot.error();
  auto it = s.snapshot->vms.find(name);
  if (it == s.snapshot->vms.end()) return NotFoundInState(s, "vm", name);
  BANGER_ASSIGN_OR_RETURN(model::VmLiveness live, s.runtime.vms->Observe(name));
  if (!live.process_running)
    return FailedPrecondition("vm " + Quote(name) + " is not running; `banger vm start " +
                              name + "` boots it");
  return RunningVm{it->second.ip, live.handles};
}

Result<std::string> RunningVmAddress(Session& s, const std::string& name) {
  BANGER_ASSIGN_OR_RETURN(RunningVm vm, FindRunningVm(s, name));
  if (vm.ip.empty()) return FailedPrecondition("vm " + Quote(name) + " has no address");
  return vm.ip;
}

int RunExec(Console& console, const AccessArgs& args) {
  auto via = ParseExecVia(args.via);
  if (!via.ok()) return Fail(console, via.error());
  ExecOptions options{args.command, args.env, args.cwd, args.tty};
  if (Status valid = ValidateExecOptions(options, *via); !valid.ok()) return Fail(console, valid.error());
  auto s = OpenState(args.state);
  if (!s.ok()) return Fail(console, s.error());
  auto vm = FindRunningVm(*s, args.name);
  if (!vm.ok()) return Fail(console, vm.error());
  if (*via != ExecVia::kSsh) {
    auto code = ExecViaAgent(console, vm->handles, options, kAgentConnectTimeout);
    if (code.ok()) return *code;
    if (*via == ExecVia::kAgent || code.error().code() != Code::kUnavailable || options.tty)
      return Fail(console, code.error().WithContext("vm " + Quote(args.name)));
  }
  if (vm->ip.empty()) return Fail(console, FailedPrecondition("vm " + Quote(args.name) + " has no address"));
  std::string input;
  if (!console.in_tty) input.assign(std::istreambuf_iterator<char>(std::cin), {});
  auto code = s->runtime.ssh->Exec(
      args.name, vm->ip, SshExecArgv(options), input,
      [&](std::string_view d) { console.out.write(d.data(), d.size()); console.out.flush(); },
      [&](std::string_view d) { console.err.write(d.data(), d.size()); console.err.flush(); });
  if (!code.ok()) return Fail(console, code.error().WithContext("vm " + Quote(args.name)));
  return *code;
}

int RunSsh(Console& console, const AccessArgs& args) {
  auto s = OpenState(args.state);
  if (!s.ok()) return Fail(console, s.error());
  auto ip = RunningVmAddress(*s, args.name);
  if (!ip.ok()) return Fail(console, ip.error());
  std::vector<std::string> argv = s->runtime.ssh->ClientArgv(args.name, *ip, args.command);
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  console.out.flush();
  // Interactive sessions belong to the system client: replace this process.
  execvp(cargv[0], cargv.data());
  return Fail(console, Error::FromErrno("exec " + Quote(argv[0])));
}

int RunSshConfig(Console& console, bool install, const StateArgs& state) {
  auto s = OpenState(state);
  if (!s.ok()) return Fail(console, s.error());
  const std::string user_config = JoinPath(HomeDir(), ".ssh/config");
  Status st = install ? access::InstallSshConfig(user_config, s->runtime.ssh->paths())
                      : access::UninstallSshConfig(user_config);
  if (!st.ok()) return Fail(console, st.error());
  console.out << (install ? "installed" : "removed") << " banger's block in " << user_config
              << (install ? "; `ssh <vm>.vm` now works" : "") << "\n";
  return kExitOk;
}

}  // namespace

// Keeps <config>/ssh/config in step with the VMs that have addresses.
Status RefreshSshConfig(Session& session) {
  if (!session.runtime.ssh) return OkStatus();
  BANGER_ASSIGN_OR_RETURN(model::StoreSnapshot snap, session.store->Load());
  std::vector<access::VmEntry> entries;
  for (const auto& [name, rec] : snap.vms)
    if (!rec.ip.empty()) entries.push_back({name, rec.ip});
  return session.runtime.ssh->WriteSshConfig(entries);
}

void AddVmAccessCommands(CLI::App* vm, Console& console, Command& command) {
  auto exec_args = std::make_shared<AccessArgs>();
  CLI::App* exec = vm->add_subcommand(
      "exec",
      "run a command in a VM; exits with its status. Goes through the guest agent "
      "(virtio-serial or vsock), or over SSH when the agent does not answer within 5 s "
      "(images built before the agent have none)");
  exec->add_option("name", exec_args->name, "VM name")->required();
  exec->add_option("command", exec_args->command, "command and arguments (after --)");
  exec->add_option("--via", exec_args->via,
                   "transport: auto (agent, else SSH), agent, or ssh")
      ->default_val("auto");
  // One value per -e, so `-e A=1 web -- cmd` leaves `web` to the name.
  exec->add_option("-e,--env", exec_args->env, "NAME=value for the command (repeatable)")
      ->allow_extra_args(false);
  exec->add_option("-w,--workdir", exec_args->cwd, "absolute directory to run in (default /root)");
  exec->add_flag("-t,--tty", exec_args->tty,
                 "run on a terminal in the guest (agent only), this one in raw mode; "
                 "window size changes follow");
  AddStateOptions(exec, exec_args->state);
  exec->callback([&console, &command, exec_args] {
    command.take_trailing = [exec_args](std::vector<std::string> words) {
      exec_args->command.insert(exec_args->command.end(), words.begin(), words.end());
    };
    command.run = [&console, exec_args] { return RunExec(console, *exec_args); };
  });
  auto ssh_args = std::make_shared<AccessArgs>();
  CLI::App* ssh = vm->add_subcommand("ssh", "log into a VM with the system ssh client");
  ssh->add_option("name", ssh_args->name, "VM name")->required();
  ssh->add_option("command", ssh_args->command, "optional command (after --)");
  AddStateOptions(ssh, ssh_args->state);
  ssh->callback([&console, &command, ssh_args] {
    command.take_trailing = [ssh_args](std::vector<std::string> words) {
      ssh_args->command.insert(ssh_args->command.end(), words.begin(), words.end());
    };
    command.run = [&console, ssh_args] { return RunSsh(console, *ssh_args); };
  });
}

void AddSshConfigCommand(CLI::App& app, Console& console, Command& command) {
  CLI::App* cfg = app.add_subcommand("ssh-config", "make plain `ssh <vm>.vm` work");
  cfg->require_subcommand(1);
  for (bool install : {true, false}) {
    auto state = std::make_shared<StateArgs>();
    CLI::App* cmd = cfg->add_subcommand(install ? "install" : "uninstall",
                                        install ? "add banger's Include block to ~/.ssh/config"
                                                : "remove banger's block from ~/.ssh/config");
    AddStateOptions(cmd, *state);
    cmd->callback([&console, &command, install, state] {
      command.run = [&console, install, state] { return RunSshConfig(console, install, *state); };
    });
  }
}

}  // namespace banger::cli
