#include "helper/nat_table.h"

#include <fcntl.h>
#include <unistd.h>

#include <set>

#include "helper/protocol/names.h"
#include "reconciler/os/unique_fd.h"

namespace banger::helper {

namespace {

// One DNAT rule per published port, the same in prerouting and output.
std::string PortRules(const std::vector<PortRecord>& ports) {
  std::string rules;
  for (const PortRecord& r : ports) {
    for (const PublishedPort& p : r.ports) {
      std::string match = p.host_address == "0.0.0.0" ? "fib daddr type local"
                                                      : "ip daddr " + p.host_address;
      rules += "    " + match + " " + p.proto + " dport " + std::to_string(p.host_port) +
               " dnat to " + r.address + ":" + std::to_string(p.guest_port) + "\n";
    }
  }
  return rules;
}

// Per published guest: masquerade hairpin connections from its bridge's
// subnet.
std::string HairpinRules(const std::vector<PortRecord>& ports,
                         const std::vector<BridgeRecord>& bridges) {
  std::string rules;
  for (const PortRecord& r : ports) {
    auto guest = ParseIpv4(r.address);
    if (r.ports.empty() || !guest.ok()) continue;
    for (const BridgeRecord& b : bridges) {
      auto cidr = ParseInterfaceCidr(b.address);
      if (!cidr.ok() || !cidr->Contains(*guest)) continue;
      rules += "    oifname \"" + b.name + "\" ip saddr " + FormatIpv4(cidr->network()) + "/" +
               std::to_string(cidr->prefix) + " ip daddr " + r.address +
               " ct status dnat masquerade\n";
      break;
    }
  }
  return rules;
}

}  // namespace

std::string RenderNatScript(const std::vector<NatRecord>& nat,
                            const std::vector<PortRecord>& ports,
                            const std::vector<BridgeRecord>& bridges) {
  std::string table = std::string(kNftFamily) + " " + kNftTable;
  std::string script = "table " + table + "\ndelete table " + table + "\n";
  std::string port_rules = PortRules(ports);
  if (nat.empty() && port_rules.empty()) return script;
  script += "table " + table + " {\n";
  if (!port_rules.empty()) {
    script += "  chain prerouting {\n";
    script += "    type nat hook prerouting priority dstnat; policy accept;\n";
    script += port_rules;
    script += "  }\n";
    script += "  chain output {\n";
    script += "    type nat hook output priority -100; policy accept;\n";
    script += port_rules;
    script += "  }\n";
    script += "  chain loopback_guard {\n";
    script += "    type filter hook prerouting priority mangle; policy accept;\n";
    script += "    iifname != \"lo\" ip daddr 127.0.0.0/8 ct direction original drop\n";
    script += "  }\n";
  }
  script += "  chain postrouting {\n";
  script += "    type nat hook postrouting priority srcnat; policy accept;\n";
  if (!port_rules.empty()) {
    script += "    ip saddr 127.0.0.0/8 ct status dnat masquerade\n";
    script += HairpinRules(ports, bridges);
  }
  for (const NatRecord& n : nat) {
    script += "    ip saddr " + n.address + " oifname != \"" + n.bridge + "\" masquerade\n";
  }
  script += "  }\n";
  if (nat.empty()) return script + "}\n";

  std::set<std::string> nat_bridges;
  for (const NatRecord& n : nat) nat_bridges.insert(n.bridge);
  std::string bridge_set = "{ ";
  for (auto it = nat_bridges.begin(); it != nat_bridges.end(); ++it) {
    if (it != nat_bridges.begin()) bridge_set += ", ";
    bridge_set += "\"" + *it + "\"";
  }
  bridge_set += " }";

  for (const char* hook : {"forward", "input"}) {
    script += "  chain " + std::string(hook) + " {\n";
    script += "    type filter hook " + std::string(hook) +
              " priority filter; policy accept;\n";
    script += "    iifname " + bridge_set + " ip daddr " + kMetadataAddress + " drop\n";
    script += "  }\n";
  }
  script += "}\n";
  return script;
}

Status ApplyNatTable(CommandRunner& runner, const std::vector<NatRecord>& nat,
                     const std::vector<PortRecord>& ports,
                     const std::vector<BridgeRecord>& bridges) {
  ExecRequest request;
  request.argv = {"nft", "-f", "-"};
  request.stdin_data = RenderNatScript(nat, ports, bridges);
  request.timeout = std::chrono::seconds(30);
  auto result = RunChecked(runner, request);
  if (!result.ok()) {
    return result.error().WithContext("update nftables table " +
                                      Quote(std::string(kNftFamily) + " " + kNftTable));
  }
  return OkStatus();
}

namespace {

Status WriteSysctl(const std::string& path, const std::string& what) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno(what + ": open " + Quote(path));
  if (write(fd.get(), "1\n", 2) != 2) return Error::FromErrno(what + ": write " + Quote(path));
  return OkStatus();
}

}  // namespace

Status EnableIpv4Forwarding() {
  return WriteSysctl("/proc/sys/net/ipv4/ip_forward", "enable forwarding");
}

Status EnableRouteLocalnet(const std::string& bridge) {
  return WriteSysctl("/proc/sys/net/ipv4/conf/" + bridge + "/route_localnet",
                     "enable route_localnet on " + Quote(bridge));
}

}  // namespace banger::helper
