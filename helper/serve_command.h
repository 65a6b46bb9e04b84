// `banger-helper serve` (also reachable as `banger helper serve`): options,
// startup checks and the signal-driven serve loop.
//
//   serve --owner UID [--socket PATH] [--state-dir DIR] [--log-requests]
//         [--jailer PATH --firecracker PATH [--jail-dir DIR]]
//
// Defaults: socket DefaultSocketPath(UID) in /run/banger (created root-owned
// 0755), state dir /var/lib/banger-helper (0700). Without --jailer the
// helper refuses jail_start; --jail-dir defaults to the jailer's own
// /srv/jailer and must be on the filesystem of the owner's banger state.
// --log-requests logs every request served (operation, peer, outcome): an
// audit trail, and how tests count the privileged operations an apply made.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "helper/server.h"
#include "reconciler/base/error.h"

namespace banger::helper {

struct ServeOptions {
  uid_t owner_uid = 0;
  std::string socket_path;  // empty: DefaultSocketPath(owner_uid)
  std::string state_dir = "/var/lib/banger-helper";
  std::string jailer;       // empty: no jailed Firecracker
  std::string firecracker;  // required with jailer
  std::string jail_dir = "/srv/jailer";
  bool log_requests = false;
};

// Parses the arguments after "serve". Errors name the flag.
Result<ServeOptions> ParseServeOptions(const std::vector<std::string>& args);

// Checks it runs as root, prepares directories, listens and serves until
// `stop_fd` is readable. Each refused peer and failed start goes to `log`.
Status Serve(const ServeOptions& options, int stop_fd, LogFn log);

// The command: parses `args` (after "serve"), serves until SIGTERM/SIGINT,
// prints errors to stderr. Returns the process exit code.
int ServeMain(const std::vector<std::string>& args);

// The banger-helper binary: argv[1] is the verb ("serve").
int HelperMain(int argc, char** argv);

}  // namespace banger::helper
