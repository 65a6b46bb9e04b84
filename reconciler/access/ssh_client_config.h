// What lets the system OpenSSH client reach guests the way banger does:
// the argv for `banger vm ssh`, the per-VM client config banger rewrites on
// apply, and the managed Include block at the top of ~/.ssh/config that
// `banger ssh-config install|uninstall` adds and removes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "reconciler/access/ssh_dir.h"
#include "reconciler/base/error.h"

namespace banger::access {

struct VmEntry {
  std::string name;  // "web"
  std::string ip;    // "172.30.0.5"
};

inline constexpr std::string_view kManagedBlockBegin = "# BEGIN banger (managed by banger ssh-config)";
inline constexpr std::string_view kManagedBlockEnd = "# END banger";

// `ssh -i <key> -o UserKnownHostsFile=<known_hosts> -o StrictHostKeyChecking=yes
//  -o IdentitiesOnly=yes -o HostKeyAlias=<vm>.vm [-p <port>] -l root <ip>
//  [-- <command>]`. The command, when given, is passed as one argument
// already quoted for the remote shell (ssh would otherwise join the words
// with spaces and lose their boundaries).
std::vector<std::string> SshClientArgv(const SshPaths& paths, const std::string& vm,
                                       const std::string& ip,
                                       const std::vector<std::string>& command = {},
                                       int port = 22);

// The content of paths.client_config: one Host entry per VM, in the order
// given, so `ssh web.vm` works once the Include block is installed.
std::string RenderVmHostsConfig(const SshPaths& paths, const std::vector<VmEntry>& vms,
                                int port = 22);

// The user's config with the managed block (holding `Include <include>`)
// at the top; an existing block anywhere is removed first, so installing
// twice gives the same bytes. Everything else is kept byte for byte.
std::string InstallManagedBlock(std::string_view user_config, std::string_view include);
// The user's config without the managed block; unchanged if there is none.
std::string RemoveManagedBlock(std::string_view user_config);

// Writes paths.client_config atomically (0600: ssh refuses included files
// others can write).
Status WriteSshConfig(const SshPaths& paths, const std::vector<VmEntry>& vms, int port = 22);

// Adds/removes the block in `user_config_path` (~/.ssh/config). The file's
// directory is created 0700 if missing; the file is replaced atomically
// keeping its mode (0600 when new); a symlinked config is edited at its
// target. Both are no-ops when there is nothing to change.
Status InstallSshConfig(const std::string& user_config_path, const SshPaths& paths);
Status UninstallSshConfig(const std::string& user_config_path);

}  // namespace banger::access
