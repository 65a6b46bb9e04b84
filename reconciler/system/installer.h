// `banger system install|restart|uninstall`: the files and systemctl calls
// that put the helper and the owner's daemon under systemd, and take them
// away again. systemctl runs through a CommandRunner and every path comes
// from SystemPaths, so tests run the whole sequence in a temp dir against a
// recording runner.
#pragma once

#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/os/exec.h"
#include "reconciler/system/install_record.h"

namespace banger::system {

struct SystemPaths {
  std::string unit_dir = "/etc/systemd/system";
  std::string record_path = kRecordPath;
  std::string runtime_dir = kRuntimeDir;
  std::string helper_state_dir = kHelperStateDir;
  std::string systemd_marker = "/run/systemd/system";  // exists when systemd is PID 1
};

// Fails with kFailedPrecondition unless systemd manages this system.
Status CheckSystemd(const SystemPaths& paths);

// The layout for `owner` (a user name or uid): the binaries go to
// <prefix>/bin, the daemon keeps `state_dir` (empty: the owner's default,
// <home>/.local/state/banger, what the owner's own banger uses when neither
// BANGER_STATE_DIR nor XDG_STATE_HOME is set).
Result<InstallLayout> ResolveLayout(const std::string& owner, const std::string& prefix,
                                    const std::string& state_dir);

struct InstallSources {
  std::string banger;  // the banger binary to install (the running one)
  std::string helper;  // the banger-helper binary to install
};

// Copies the binaries into the layout's bin dir unless they are already
// there, writes both units and the install record, reloads systemd, enables
// the units and (re)starts them. Refused when another owner is installed.
Result<InstallRecord> Install(CommandRunner& runner, const SystemPaths& paths,
                              const InstallLayout& layout, const InstallSources& sources);

// systemctl restart of both units.
Status RestartUnits(CommandRunner& runner);

struct UninstallOptions {
  bool purge = false;  // also remove the owner's state dir and the helper's state
  bool force = false;  // purge even while VMs run (their VMMs are killed first)
};

// Stops and disables the units, removes them, the runtime dir, the binaries
// install copied and the record. State is kept unless `purge`, which also
// deletes the taps and bridges the helper's record names and banger's
// nftables table; a purge is refused (kBusy, naming the VMs) while VMs
// run, unless `force`. Returns
// what it removed, for the report.
Result<std::vector<std::string>> Uninstall(CommandRunner& runner, const SystemPaths& paths,
                                           const InstallRecord& record,
                                           const UninstallOptions& options);

}  // namespace banger::system
