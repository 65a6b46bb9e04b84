// name_set / name_remove and the resolver each bridge gets: the helper
// holds the names per bridge, writes them as dnsmasq's hosts file and
// signals it. The hosts file is also how names survive a helper restart:
// it is read back when the bridge's resolver starts again.
#include <net/if.h>
#include <sys/stat.h>

#include <sstream>

#include "helper/helper_service.h"
#include "helper/protocol/names.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"

namespace banger::helper {
namespace {

std::vector<NameEntry> Entries(const std::map<std::string, std::string>& names) {
  std::vector<NameEntry> out;
  for (const auto& [vm, address] : names) out.push_back({vm, address});
  return out;
}

// Reads back a hosts file this helper wrote; lines that do not parse as
// "ADDR NAME.vm NAME" with a valid name and address are skipped.
std::map<std::string, std::string> ReadHostsFile(const std::string& path) {
  std::map<std::string, std::string> out;
  auto text = ReadFile(path);
  if (!text.ok()) return out;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string address, fqdn, name;
    if (!(words >> address >> fqdn >> name) || address[0] == '#') continue;
    if (fqdn != name + ".vm" || !ValidateVmName(name).ok() || !ParseIpv4(address).ok()) continue;
    out[name] = address;
  }
  return out;
}

// The host's own lookups of *.vm: where systemd-resolved runs, route the
// ~vm domain to this bridge's resolver for the bridge link, so `ssh web.vm`
// works on the host. Best effort: without resolved (or resolvectl) the
// guests still resolve, and `banger doctor` says how to point the host.
// Returns whether resolved took all of it.
bool RouteVmDomainWith(CommandRunner& runner, const std::string& bridge,
                       const std::string& address) {
  if (!PathExists("/run/systemd/resolve/io.systemd.Resolve")) return false;
  const std::string resolvectl = FindProgram("resolvectl");
  if (resolvectl.empty()) return false;
  // The routing domain and "no default route" go first: a link with a DNS
  // server and neither would, even briefly, get every name, and the bridge
  // resolver forwards what is not .vm back to the host's resolver.
  for (std::vector<std::string> argv :
       {std::vector<std::string>{resolvectl, "domain", bridge, "~vm"},
        std::vector<std::string>{resolvectl, "default-route", bridge, "false"},
        std::vector<std::string>{resolvectl, "dns", bridge, address}}) {
    ExecRequest req;
    req.argv = std::move(argv);
    req.timeout = std::chrono::seconds(5);
    auto done = runner.Run(req);
    if (!done.ok() || !done->success()) return false;
  }
  return true;
}

std::string AddressOnly(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }

}  // namespace

void HelperService::RouteVmDomain(const std::string& bridge, const std::string& address) {
  const unsigned index = if_nametoindex(bridge.c_str());
  if (index == 0) return;  // no link to route for; ensure_bridge makes it
  const std::pair<unsigned, std::string> link{index, address};
  auto it = routed_.find(bridge);
  if (it != routed_.end() && it->second == link) return;
  // A failure (resolved not running or refusing) is retried next time.
  if (RouteVmDomainWith(runner(), bridge, address)) routed_[bridge] = link;
}

std::string HelperService::resolver_dir() const { return JoinPath(config_.state_dir, "dns"); }

Result<BridgeResolver*> HelperService::EnsureResolver(const BridgeRecord& bridge) {
  auto it = resolvers_.find(bridge.name);
  if (it != resolvers_.end() && it->second->Alive() &&
      it->second->config().listen_address == AddressOnly(bridge.address)) {
    RouteVmDomain(bridge.name, it->second->config().listen_address);
    return it->second.get();
  }
  if (it != resolvers_.end()) resolvers_.erase(it);  // dead or readdressed: start afresh
  ResolverConfig config;
  config.bridge = bridge.name;
  config.listen_address = AddressOnly(bridge.address);
  config.dir = resolver_dir();
  config.dnsmasq = config_.dnsmasq;
  // dnsmasq reads its hosts file as `nobody`: the state dir must let it
  // through (0711: no listing), the dns dir and files are world-readable.
  if (chmod(config_.state_dir.c_str(), 0711) != 0)
    return Error::FromErrno("resolver: chmod " + Quote(config_.state_dir));
  auto& names = names_[bridge.name];
  if (names.empty()) names = ReadHostsFile(JoinPath(config.dir, bridge.name + ".hosts"));
  BANGER_ASSIGN_OR_RETURN(std::unique_ptr<BridgeResolver> resolver,
                          BridgeResolver::Start(config, Entries(names)));
  BridgeResolver* raw = resolver.get();
  resolvers_[bridge.name] = std::move(resolver);
  RouteVmDomain(bridge.name, config.listen_address);
  return raw;
}

Result<EmptyResponse> HelperService::Do(const NameSetRequest& q, UniqueFd*) {
  const std::string what = "name " + Quote(q.vm + ".vm") + " on bridge " + Quote(q.bridge);
  std::lock_guard lock(mu_);
  const BridgeRecord* bridge = store_.state().FindBridge(q.bridge);
  if (bridge == nullptr)
    return Error(Code::kNotFound, what + ": the helper has no such bridge (ensure_bridge first)");
  auto& names = names_[q.bridge];
  BANGER_ASSIGN_OR_RETURN(BridgeResolver * resolver, EnsureResolver(*bridge));
  names[q.vm] = q.address;
  Status st = resolver->SetNames(Entries(names));
  if (!st.ok()) return st.error().WithContext(what);
  return EmptyResponse{};
}

Result<EmptyResponse> HelperService::Do(const NameRemoveRequest& q, UniqueFd*) {
  std::lock_guard lock(mu_);
  for (const BridgeRecord& bridge : store_.state().bridges) {
    const std::string what = "name " + Quote(q.vm + ".vm") + " on bridge " + Quote(bridge.name);
    BANGER_ASSIGN_OR_RETURN(BridgeResolver * resolver, EnsureResolver(bridge));
    auto& names = names_[bridge.name];
    if (names.erase(q.vm) == 0) continue;
    Status st = resolver->SetNames(Entries(names));
    if (!st.ok()) return st.error().WithContext(what);
  }
  return EmptyResponse{};
}

}  // namespace banger::helper
