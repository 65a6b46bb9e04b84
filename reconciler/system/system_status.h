// `banger system status`: what systemd says of both units, the builds of
// the binaries that run (the helper's from its ping answer, the daemon's
// from its status file), whether the helper's socket answers, whether the
// daemon is alive, and whether each bridge's resolver answers DNS.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/os/exec.h"
#include "reconciler/system/install_record.h"
#include "reconciler/system/installer.h"

namespace banger::system {

struct UnitState {
  std::string name;
  std::string active;     // ActiveState: active, failed, activating, inactive
  std::string sub;        // SubState: running, dead, auto-restart
  std::string enabled;    // UnitFileState: enabled, disabled
  pid_t main_pid = 0;
  int restarts = 0;       // NRestarts: restarts systemd made (Restart=)
};

struct ResolverState {
  std::string bridge;
  std::string address;  // the bridge's IPv4 address; empty when the bridge is gone
  bool answering = false;
  std::string detail;   // the rcode answered, or why not
};

struct SystemStatus {
  InstallRecord record;
  std::vector<UnitState> units;
  std::string installed_banger;  // `<bin>/banger --version` output
  std::string installed_helper;  // `<bin>/banger-helper --version` output
  std::string helper_socket;
  bool helper_reachable = false;
  std::string helper_build;      // from ping
  std::string helper_error;
  bool daemon_alive = false;
  std::string daemon_build;      // from status.json
  int64_t daemon_heartbeat_age = -1;  // seconds; -1: no status file
  std::string daemon_error;      // why it is not alive, or its last cycle error
  std::vector<ResolverState> resolvers;
  std::vector<std::string> running_vms;
  std::vector<std::string> warnings;  // builds that differ from this banger

  // Both units active, helper and daemon reachable, every resolver answering.
  bool ok() const;
};

// Never fails on what it probes (each probe's failure is part of the
// status); fails only when systemctl cannot be run at all.
Result<SystemStatus> CollectStatus(CommandRunner& runner, const SystemPaths& paths,
                                   const InstallRecord& record);

}  // namespace banger::system
