// What the VM runtime needs from the host network and from inside guests,
// as interfaces: the root-helper-backed network and the SSH-based guest
// access implement them; tests use fakes.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "reconciler/apply/effects.h"
#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"
#include "specs/desired.h"

namespace banger::runtime {

// A VM's network interface on the host side.
struct VmNic {
  std::string tap;
  UniqueFd fd;           // open tap for the VMM to inherit (-1: open by name)
  std::string mac;
  std::string address;   // guest address with prefix, "172.30.0.5/24"
  std::string gateway;   // the bridge's address, "172.30.0.1"
  bool from_pool = false;  // taken from the warm pool (not created now)
  std::chrono::microseconds acquire_time{0};
};

class VmNetwork {
 public:
  virtual ~VmNetwork() = default;
  // Ensures the bridge and hands out a tap for the VM at `ip`.
  virtual Result<VmNic> Attach(const std::string& vm, const std::string& ip,
                               const specs::Settings& settings) = 0;
  // Deletes the VM's tap (a missing one is fine).
  virtual Status Detach(const std::string& tap) = 0;
  // Outbound NAT for one guest address.
  virtual Status SetNat(const std::string& ip, bool enabled,
                        const specs::Settings& settings) = 0;
  virtual bool TapPresent(const std::string& tap) = 0;
  // `<vm>.vm` answers `ip` from the bridge's resolver; Remove: from none.
  virtual Status SetName(const std::string& vm, const std::string& ip,
                         const specs::Settings& settings) = 0;
  virtual Status RemoveName(const std::string& vm) = 0;
  // Makes `ports` the VM's whole set of published host ports, forwarded to
  // the guest at `ip` (empty: none published).
  virtual Status SetPorts(const std::string& vm, const std::string& ip,
                          const std::vector<specs::PortSpec>& ports) = 0;
};

// Host keys the guest printed on its console at boot ("ssh-ed25519 AAAA...").
using HostKeys = std::vector<std::string>;

class GuestAccess {
 public:
  virtual ~GuestAccess() = default;
  // Pins the VM's host keys (learned from the console, never from the
  // network) for later SSH connections.
  virtual Status PinHostKeys(const std::string& vm, const std::string& ip,
                             const HostKeys& keys) = 0;
  virtual Status ForgetHostKeys(const std::string& vm) = 0;
  // Waits until sshd accepts banger's key with the pinned host key.
  virtual Status WaitForLogin(const std::string& vm, const std::string& ip,
                              std::chrono::steady_clock::time_point deadline) = 0;
  // Copies file_sync entries into a running guest; returns per entry the
  // digest of what was copied ("" for a skipped missing host path).
  virtual Result<std::map<std::string, std::string>> SyncFiles(
      const std::string& vm, const std::string& ip,
      const std::vector<specs::FileSyncSpec>& entries, apply::StepProgress& progress) = 0;
  // Asks the guest's init to power off (returns once the request is made).
  virtual Status RequestPoweroff(const std::string& vm, const std::string& ip) = 0;
  // The public key line to authorize in guests ("ssh-ed25519 AAAA... banger").
  virtual Result<std::string> AuthorizedKey() = 0;
};

}  // namespace banger::runtime
