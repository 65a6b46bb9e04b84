// The resolver on a bridge: one dnsmasq per bridge, started by the helper,
// bound to the bridge's address only, answering `<vm>.vm` from a hosts file
// the helper writes and forwarding every other name to the host's own
// resolvers (/etc/resolv.conf). A change of names rewrites the file and
// sends SIGHUP, which makes dnsmasq re-read it: names follow VMs without a
// restart and without dropping queries in flight.
//
// dnsmasq drops to `nobody` after binding port 53, so the hosts file lives
// in a directory that user can read (0755, files 0644); it holds only names
// and addresses the guests can query anyway.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::helper {

struct NameEntry {
  std::string name;     // a VM name: answered as "<name>.vm"
  std::string address;  // IPv4
};

struct ResolverConfig {
  std::string bridge;
  std::string listen_address;  // the bridge's IPv4 address, no prefix
  std::string dir;             // for <bridge>.hosts, .pid, .log
  std::string dnsmasq = "dnsmasq";  // bare names are looked up in PATH
};

// "172.30.0.5 web.vm web\n..." in name order: what dnsmasq reads.
std::string RenderHostsFile(std::vector<NameEntry> entries);

// The dnsmasq argv for `config` (pure; tested).
std::vector<std::string> DnsmasqArgv(const ResolverConfig& config, const std::string& binary);

// Stops a resolver a previous helper left running (a helper killed with
// SIGKILL cannot stop its dnsmasq, and dnsmasq's change to `nobody` clears
// the parent-death signal): the process named by <dir>/<bridge>.pid, only
// if its command line still names that bridge's hosts file.
void StopOrphanResolver(const std::string& dir, const std::string& bridge);

class BridgeResolver {
 public:
  // Writes the hosts file, starts dnsmasq as a child of this process (it
  // dies with the helper: PR_SET_PDEATHSIG) and waits until it answers on
  // port 53 of the listen address. Fails with dnsmasq's own words when it
  // exits instead (port taken, address missing).
  static Result<std::unique_ptr<BridgeResolver>> Start(const ResolverConfig& config,
                                                       const std::vector<NameEntry>& names);
  ~BridgeResolver();  // SIGTERM, reap
  BridgeResolver(const BridgeResolver&) = delete;
  BridgeResolver& operator=(const BridgeResolver&) = delete;

  // Rewrites the hosts file (atomically) and signals dnsmasq to re-read it.
  Status SetNames(const std::vector<NameEntry>& names);
  // Whether dnsmasq still runs (reaps it when it does not).
  bool Alive();
  const ResolverConfig& config() const { return config_; }
  pid_t pid() const { return pid_; }

 private:
  BridgeResolver(ResolverConfig config, pid_t pid) : config_(std::move(config)), pid_(pid) {}
  std::string hosts_path() const;

  ResolverConfig config_;
  pid_t pid_ = -1;
};

}  // namespace banger::helper
