// banger's SSH directory in the config dir: where the managed key, the
// pinned host keys and the generated client config live (one place defines
// the layout, so the key, known_hosts and the argv handed to the system ssh
// always agree), and the managed key itself: one ed25519 key per user,
// generated on first use and authorized in every guest's /root.
#pragma once

#include <string>
#include <vector>

#include "guest/agent/protocol/messages.h"
#include "reconciler/base/error.h"
#include "reconciler/os/exec.h"

namespace banger::access {

struct SshPaths {
  std::string dir;            // <config>/ssh, mode 0700
  std::string key;            // <config>/ssh/id_ed25519 (private, 0600)
  std::string pub;            // <config>/ssh/id_ed25519.pub
  std::string known_hosts;    // <config>/ssh/known_hosts (pinned host keys)
  std::string client_config;  // <config>/ssh/config (one Host entry per VM)
  // Serializes key generation and known_hosts rewrites between processes.
  std::string key_lock;
  std::string known_hosts_lock;

  static SshPaths ForConfigDir(const std::string& config_dir);
};

// Makes sure paths.key and paths.pub exist. The first caller runs
// `ssh-keygen -t ed25519` into a temp dir and renames the pair into place
// (public half first, so an existing private key always has its .pub);
// concurrent first uses are serialized by a lock file and the losers reuse
// the winner's key. The ssh dir is created 0700, the private key is 0600.
Status EnsureManagedKey(const SshPaths& paths, CommandRunner& runner);

// The public key line, "ssh-ed25519 AAAA... banger", without a newline.
// Generates the key when missing.
Result<std::string> ManagedAuthorizedKey(const SshPaths& paths, CommandRunner& runner);

// New SSH host key pairs for a guest named `host`: rsa (3072 bits), ecdsa
// (256) and ed25519, the types `ssh-keygen -A` makes, made here rather than
// in a guest whose emulated CPU takes tens of seconds for the RSA key. Made
// in a temp dir under `temp_parent` (private: the VM's dir), removed after.
Result<std::vector<agent::HostKeyPair>> MakeGuestHostKeys(const std::string& host,
                                                          const std::string& temp_parent,
                                                          CommandRunner& runner);

}  // namespace banger::access
