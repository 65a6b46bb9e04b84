#include "helper/nat_table.h"

#include <fcntl.h>
#include <unistd.h>

#include <set>

#include "reconciler/os/unique_fd.h"

namespace banger::helper {

std::string RenderNatScript(const std::vector<NatRecord>& nat) {
  std::string table = std::string(kNftFamily) + " " + kNftTable;
  std::string script = "table " + table + "\ndelete table " + table + "\n";
  if (nat.empty()) return script;

  std::set<std::string> bridges;
  for (const NatRecord& n : nat) bridges.insert(n.bridge);
  std::string bridge_set = "{ ";
  for (auto it = bridges.begin(); it != bridges.end(); ++it) {
    if (it != bridges.begin()) bridge_set += ", ";
    bridge_set += "\"" + *it + "\"";
  }
  bridge_set += " }";

  script += "table " + table + " {\n";
  script += "  chain postrouting {\n";
  script += "    type nat hook postrouting priority srcnat; policy accept;\n";
  for (const NatRecord& n : nat) {
    script += "    ip saddr " + n.address + " oifname != \"" + n.bridge + "\" masquerade\n";
  }
  script += "  }\n";
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

Status ApplyNatTable(CommandRunner& runner, const std::vector<NatRecord>& nat) {
  ExecRequest request;
  request.argv = {"nft", "-f", "-"};
  request.stdin_data = RenderNatScript(nat);
  request.timeout = std::chrono::seconds(30);
  auto result = RunChecked(runner, request);
  if (!result.ok()) {
    return result.error().WithContext("update nftables table " +
                                      Quote(std::string(kNftFamily) + " " + kNftTable));
  }
  return OkStatus();
}

Status EnableIpv4Forwarding() {
  const char* path = "/proc/sys/net/ipv4/ip_forward";
  UniqueFd fd(open(path, O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno(std::string("enable forwarding: open ") + Quote(path));
  if (write(fd.get(), "1\n", 2) != 2) {
    return Error::FromErrno(std::string("enable forwarding: write ") + Quote(path));
  }
  return OkStatus();
}

}  // namespace banger::helper
