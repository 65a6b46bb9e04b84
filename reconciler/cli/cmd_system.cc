// banger system install|status|restart|uninstall: the root helper and the
// owner's daemon as systemd units (reconciler/system/).
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <ostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "reconciler/base/version.h"
#include "reconciler/cli/cli.h"
#include "reconciler/os/fs.h"
#include "reconciler/system/installer.h"
#include "reconciler/system/system_status.h"

namespace banger::cli {
namespace {

using system::SystemPaths;
using system::SystemStatus;

Status RequireRoot(const std::string& verb) {
  if (geteuid() == 0) return OkStatus();
  return Error(Code::kPermissionDenied,
               "system " + verb + " changes systemd units: run it as root (sudo banger system " +
                   verb + ")");
}

Result<system::InstallRecord> LoadRecord(const SystemPaths& paths) {
  BANGER_ASSIGN_OR_RETURN(auto record, system::ReadInstallRecord(paths.record_path));
  if (!record) {
    return NotFound("banger is not installed as a service (no " + Quote(paths.record_path) +
                    "): `sudo banger system install`");
  }
  return *record;
}

Result<std::string> RunningBinary() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0) return Error::FromErrno("find the running banger (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

nlohmann::json StatusJson(const SystemStatus& s) {
  nlohmann::json units = nlohmann::json::array();
  for (const auto& u : s.units) {
    units.push_back({{"unit", u.name}, {"active", u.active}, {"sub", u.sub},
                     {"enabled", u.enabled}, {"main_pid", u.main_pid}, {"restarts", u.restarts}});
  }
  nlohmann::json resolvers = nlohmann::json::array();
  for (const auto& r : s.resolvers) {
    resolvers.push_back({{"bridge", r.bridge}, {"address", r.address},
                         {"answering", r.answering}, {"detail", r.detail}});
  }
  return {{"ok", s.ok()},
          {"owner", s.record.layout.owner},
          {"uid", s.record.layout.owner_uid},
          {"state_dir", s.record.layout.state_dir},
          {"units", units},
          {"installed", {{"banger", s.installed_banger}, {"banger_helper", s.installed_helper}}},
          {"helper", {{"socket", s.helper_socket}, {"reachable", s.helper_reachable},
                      {"build", s.helper_build}, {"error", s.helper_error}}},
          {"daemon", {{"alive", s.daemon_alive}, {"build", s.daemon_build},
                      {"heartbeat_age", s.daemon_heartbeat_age}, {"error", s.daemon_error}}},
          {"dns", resolvers},
          {"running_vms", s.running_vms},
          {"warnings", s.warnings}};
}

void RenderStatus(Console& console, const SystemStatus& s) {
  auto& out = console.out;
  out << "owner:      " << s.record.layout.owner << " (uid " << s.record.layout.owner_uid
      << "), state dir " << s.record.layout.state_dir << "\n";
  for (const auto& u : s.units) {
    out << "unit:       " << u.name << ": " << u.active << " (" << u.sub << "), " << u.enabled;
    if (u.main_pid > 0) out << ", pid " << u.main_pid;
    out << ", " << u.restarts << " restarts\n";
  }
  out << "installed:  " << s.installed_banger << "; " << s.installed_helper << "\n";
  if (s.helper_reachable) {
    out << "helper:     reachable at " << s.helper_socket << ", build " << s.helper_build << "\n";
  } else {
    out << "helper:     NOT reachable: " << s.helper_error << "\n";
  }
  if (s.daemon_alive) {
    out << "daemon:     alive, heartbeat " << s.daemon_heartbeat_age << " s ago, build "
        << s.daemon_build << (s.daemon_error.empty() ? "" : "; " + s.daemon_error) << "\n";
  } else {
    out << "daemon:     NOT alive: " << s.daemon_error << "\n";
  }
  if (s.resolvers.empty()) out << "dns:        no bridges yet\n";
  for (const auto& r : s.resolvers) {
    out << "dns:        " << r.bridge << (r.address.empty() ? "" : " " + r.address) << ": "
        << (r.answering ? "answering, " : "NOT answering: ") << r.detail << "\n";
  }
  out << "vms:        " << s.running_vms.size() << " running\n";
  for (const auto& w : s.warnings) console.err << "warning: " << w << "\n";
}

int RunInstall(Console& console, const std::string& owner_flag, const std::string& prefix,
               const std::string& state_dir, const std::string& helper_flag) {
  if (auto st = RequireRoot("install"); !st.ok()) return Fail(console, st.error());
  SystemPaths paths;
  if (auto st = system::CheckSystemd(paths); !st.ok()) return Fail(console, st.error());
  std::string owner = owner_flag;
  if (owner.empty()) {
    const char* sudo_user = std::getenv("SUDO_USER");
    if (sudo_user != nullptr) owner = sudo_user;
  }
  auto layout = system::ResolveLayout(owner, prefix, state_dir);
  if (!layout.ok()) return Fail(console, layout.error());
  auto banger = RunningBinary();
  if (!banger.ok()) return Fail(console, banger.error());
  // The helper built and shipped next to this banger, unless named.
  const std::string helper =
      helper_flag.empty() ? JoinPath(Dirname(*banger), "banger-helper") : helper_flag;
  if (!PathExists(helper)) {
    return Fail(console, NotFound("no banger-helper next to " + Quote(*banger) + " (looked for " +
                                  Quote(helper) + "): name it with --helper-bin PATH"));
  }
  auto record = system::Install(SystemRunner(), paths, *layout, {*banger, helper});
  if (!record.ok()) return Fail(console, record.error());
  console.err << "installed " << system::kHelperUnit << " and " << system::kDaemonUnit
              << " for " << layout->owner << "; waiting for them to answer\n";
  // The helper answers within a second; the daemon after its first cycle.
  Result<SystemStatus> status = Error(Code::kInternal, "not collected");
  for (int i = 0; i < 60; ++i) {
    status = system::CollectStatus(SystemRunner(), paths, *record);
    if (status.ok() && status->ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (!status.ok()) return Fail(console, status.error());
  RenderStatus(console, *status);
  return status->ok() ? kExitOk : kExitError;
}

int RunStatus(Console& console, bool json) {
  SystemPaths paths;
  auto record = LoadRecord(paths);
  if (!record.ok()) return Fail(console, record.error());
  auto status = system::CollectStatus(SystemRunner(), paths, *record);
  if (!status.ok()) return Fail(console, status.error());
  if (json) {
    console.out << StatusJson(*status).dump(2) << "\n";
  } else {
    RenderStatus(console, *status);
  }
  return status->ok() ? kExitOk : kExitError;
}

int RunRestart(Console& console) {
  if (auto st = RequireRoot("restart"); !st.ok()) return Fail(console, st.error());
  SystemPaths paths;
  auto record = LoadRecord(paths);
  if (!record.ok()) return Fail(console, record.error());
  if (auto st = system::RestartUnits(SystemRunner()); !st.ok()) return Fail(console, st.error());
  console.err << "restarted " << system::kHelperUnit << " and " << system::kDaemonUnit << "\n";
  return kExitOk;
}

int RunUninstall(Console& console, const system::UninstallOptions& options) {
  if (auto st = RequireRoot("uninstall"); !st.ok()) return Fail(console, st.error());
  SystemPaths paths;
  auto record = LoadRecord(paths);
  if (!record.ok()) return Fail(console, record.error());
  auto removed = system::Uninstall(SystemRunner(), paths, *record, options);
  if (!removed.ok()) return Fail(console, removed.error());
  for (const std::string& path : *removed) console.err << "removed " << path << "\n";
  if (!options.purge) {
    console.err << "kept " << record->layout.state_dir << " and " << paths.helper_state_dir
                << " (--purge removes them)\n";
  }
  return kExitOk;
}

struct SystemFlags {
  std::string owner, prefix = "/usr/local", state_dir, helper_bin;
  bool json = false;
  system::UninstallOptions uninstall;
};

}  // namespace

void AddSystemCommand(CLI::App& app, Console& console, Command& command) {
  auto flags = std::make_shared<SystemFlags>();
  CLI::App* sys = app.add_subcommand("system", "run the helper and the daemon under systemd");
  sys->require_subcommand(1);

  CLI::App* install = sys->add_subcommand(
      "install", "install and start banger-helper.service and banger-daemon.service (root)");
  install->add_option("--owner", flags->owner, "the user whose fleet they serve (default: $SUDO_USER)");
  install->add_option("--prefix", flags->prefix, "install the binaries into PREFIX/bin (default /usr/local)");
  install->add_option("--state-dir", flags->state_dir,
                      "the state dir the daemon keeps (default: the owner's ~/.local/state/banger)");
  install->add_option("--helper-bin", flags->helper_bin,
                      "the banger-helper to install (default: the one next to this banger)");
  install->callback([&console, &command, flags] {
    command.run = [&console, flags] {
      return RunInstall(console, flags->owner, flags->prefix, flags->state_dir, flags->helper_bin);
    };
  });

  CLI::App* status = sys->add_subcommand("status", "units, builds, helper, daemon and DNS");
  status->add_flag("--json", flags->json, "JSON output");
  status->callback([&console, &command, flags] {
    command.run = [&console, flags] { return RunStatus(console, flags->json); };
  });

  CLI::App* restart = sys->add_subcommand("restart", "restart both units (root)");
  restart->callback([&console, &command] {
    command.run = [&console] { return RunRestart(console); };
  });

  CLI::App* uninstall = sys->add_subcommand(
      "uninstall", "stop and remove the units, runtime files and installed binaries (root)");
  uninstall->add_flag("--purge", flags->uninstall.purge,
                      "also delete the owner's state dir and the helper's state");
  uninstall->add_flag("--force", flags->uninstall.force,
                      "with --purge: even while VMs run (their VMMs are killed)");
  uninstall->callback([&console, &command, flags] {
    command.run = [&console, flags] { return RunUninstall(console, flags->uninstall); };
  });
}

}  // namespace banger::cli
