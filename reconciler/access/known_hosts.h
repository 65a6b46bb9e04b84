// banger's own known_hosts file: the host keys each guest printed on its
// console at first boot, pinned so that every later connection (libssh2 or
// the system ssh) can check it talks to that guest. Keys are never learned
// over the network.
//
// A VM's lines look like "web.vm,172.30.0.5 ssh-ed25519 AAAA...": the first
// name is the HostKeyAlias the ssh client argv and the generated ssh config
// use, so the lines match however the guest is reached.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::access {

struct HostKey {
  std::string type;    // "ssh-ed25519"
  std::string base64;  // as printed
  std::string blob;    // decoded wire-format key, as libssh2 reports it
};

// "web" -> "web.vm".
std::string HostKeyAlias(std::string_view vm);

// Parses "ssh-ed25519 AAAA... [comment]". Fails unless the base64 decodes to
// an SSH public key blob of the named type.
Result<HostKey> ParseHostKey(std::string_view text);

// `content` with the VM's lines removed and, for each key, one line
// "<vm>.vm,<ip> <type> <base64>" appended. Other lines stay byte-identical.
// Empty `keys` just removes the VM.
std::string ReplaceVmHostKeys(std::string_view content, std::string_view vm,
                              std::string_view ip, const std::vector<HostKey>& keys);

// The keys pinned for the VM in `content`; unparsable lines are ignored.
std::vector<HostKey> PinnedHostKeys(std::string_view content, std::string_view vm);

// The file itself. Rewrites take a lock file and replace the file
// atomically, so concurrent applies pinning different VMs lose nothing.
class KnownHostsFile {
 public:
  KnownHostsFile(std::string path, std::string lock_path)
      : path_(std::move(path)), lock_path_(std::move(lock_path)) {}

  // Replaces the VM's lines with `keys` (console lines, "type base64 ...").
  // Fails, leaving the file alone, if there are none or any is malformed.
  Status Pin(const std::string& vm, const std::string& ip,
             const std::vector<std::string>& keys);
  // Removes the VM's lines; a VM (or file) without any is fine.
  Status Forget(const std::string& vm);
  // The VM's pinned keys; none when the file is missing.
  Result<std::vector<HostKey>> Pinned(const std::string& vm) const;

 private:
  Status Rewrite(const std::string& vm, const std::string& ip,
                 const std::vector<HostKey>& keys);

  std::string path_;
  std::string lock_path_;
};

}  // namespace banger::access
