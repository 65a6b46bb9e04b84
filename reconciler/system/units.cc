#include "reconciler/system/units.h"

#include <string_view>

#include "helper/protocol/names.h"
#include "reconciler/os/fs.h"

namespace banger::system {

Status ValidateUnitPath(const std::string& what, const std::string& path) {
  if (auto st = helper::ValidateCleanAbsolutePath(path); !st.ok()) {
    return st.error().WithContext(what);
  }
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f || c == '"' || c == '\'' || c == '\\' || c == '%') {
      return InvalidArgument(what + " " + Quote(path) +
                             ": a unit file cannot carry it as written (whitespace, quote, "
                             "backslash, '%' or control character); choose another path");
    }
  }
  return OkStatus();
}

std::string RenderHelperUnit(const InstallLayout& layout) {
  const std::string uid = std::to_string(layout.owner_uid);
  std::string unit;
  unit += "# Written by `banger system install`; removed by `banger system uninstall`.\n";
  unit += "[Unit]\n";
  unit += "Description=banger root helper for " + layout.owner + " (uid " + uid + ")\n";
  unit += "After=network.target\n\n";
  unit += "[Service]\n";
  unit += "Type=exec\n";
  unit += "ExecStart=" + JoinPath(layout.bin_dir, "banger-helper") + " serve --owner " + uid +
          " --state-dir " + kHelperStateDir + "\n";
  unit += "Restart=always\n";
  unit += "RestartSec=1\n";
  // The helper's socket (/run/banger) and record (/var/lib/banger-helper)
  // are the only places it writes, besides the network sysctls below.
  unit += "StateDirectory=banger-helper\n";
  unit += "StateDirectoryMode=0711\n";
  unit += "RuntimeDirectory=banger\n";
  unit += "RuntimeDirectoryMode=0755\n";
  // What its operations need: NET_ADMIN for links, taps (TUNSETOWNER),
  // nftables and the ip_forward/route_localnet sysctls; NET_BIND_SERVICE,
  // SETUID and SETGID for dnsmasq, which binds :53 and drops to nobody;
  // KILL to stop those dnsmasqs once they are nobody's. Without CHOWN,
  // DAC_OVERRIDE or SYS_ADMIN root here cannot take or read others' files
  // or mount anything.
  unit += "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID "
          "CAP_KILL\n";
  unit += "NoNewPrivileges=yes\n";
  unit += "ProtectSystem=strict\n";
  unit += "ReadWritePaths=/proc/sys/net\n";
  unit += "ProtectHome=yes\n";
  unit += "PrivateTmp=yes\n";
  unit += "PrivateMounts=yes\n";
  // A private /dev with the pseudo devices, plus the tun clone device taps
  // are made from.
  unit += "PrivateDevices=yes\n";
  unit += "BindPaths=/dev/net/tun\n";
  unit += "DeviceAllow=/dev/net/tun rw\n";
  unit += "ProtectKernelTunables=yes\n";
  unit += "ProtectKernelModules=yes\n";
  unit += "ProtectKernelLogs=yes\n";
  unit += "ProtectControlGroups=yes\n";
  unit += "ProtectClock=yes\n";
  unit += "ProtectHostname=yes\n";
  // The helper sees its own processes only: it watches its dnsmasqs as
  // their parent (waitpid, kill), never through /proc.
  unit += "ProtectProc=invisible\n";
  // AF_UNIX: its socket and resolvectl's D-Bus; AF_NETLINK: rtnetlink and
  // nftables; AF_INET/6: dnsmasq.
  unit += "RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6\n";
  unit += "RestrictNamespaces=yes\n";
  unit += "RestrictRealtime=yes\n";
  unit += "RestrictSUIDSGID=yes\n";
  unit += "LockPersonality=yes\n";
  unit += "MemoryDenyWriteExecute=yes\n";
  unit += "SystemCallArchitectures=native\n";
  unit += "SystemCallFilter=@system-service\n";
  // @system-service keeps @privileged's setuid/setgid/capset/chown calls,
  // which dnsmasq needs to drop to nobody.
  unit += "SystemCallFilter=~@resources\n";
  unit += "SystemCallErrorNumber=EPERM\n";
  unit += "UMask=0077\n";
  unit += "KeyringMode=private\n";
  unit += "PrivateIPC=yes\n\n";
  unit += "[Install]\n";
  unit += "WantedBy=multi-user.target\n";
  return unit;
}

std::string RenderDaemonUnit(const InstallLayout& layout) {
  std::string unit;
  unit += "# Written by `banger system install`; removed by `banger system uninstall`.\n";
  unit += "[Unit]\n";
  unit += "Description=banger daemon for " + layout.owner + ": keeps " + layout.state_dir +
          " converged\n";
  // Wants, not Requires: restarting the helper must not restart the daemon
  // (the daemon reconnects); After orders the first start.
  unit += "Wants=" + std::string(kHelperUnit) + "\n";
  unit += "After=" + std::string(kHelperUnit) + " network.target\n\n";
  unit += "[Service]\n";
  unit += "Type=exec\n";
  unit += "User=" + layout.owner + "\n";
  unit += "Group=" + std::to_string(layout.owner_gid) + "\n";
  unit += "ExecStart=" + JoinPath(layout.bin_dir, "banger") + " daemon --state-dir " +
          layout.state_dir + "\n";
  unit += "Restart=always\n";
  unit += "RestartSec=2\n";
  // The VMMs the daemon starts are detached but live in this unit's cgroup:
  // stopping or restarting the daemon signals the daemon only, never the
  // fleet it keeps.
  unit += "KillMode=process\n";
  // Hardening that leaves the VMMs what they need: /dev/kvm, the owner's
  // home and a shared /tmp (a private one would vanish under running VMs).
  unit += "NoNewPrivileges=yes\n";
  // The owner's processes need no capability; an empty bounding set keeps
  // any set-uid program they run from gaining one.
  unit += "CapabilityBoundingSet=\n";
  // Unix sockets (QMP, Firecracker, the helper), IP (SSH to guests,
  // downloads, registries) and netlink (interface queries) only.
  unit += "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n";
  unit += "ProtectSystem=full\n";
  unit += "ProtectKernelTunables=yes\n";
  unit += "ProtectKernelModules=yes\n";
  unit += "ProtectKernelLogs=yes\n";
  unit += "ProtectControlGroups=yes\n";
  unit += "ProtectClock=yes\n";
  unit += "ProtectHostname=yes\n";
  unit += "RestrictNamespaces=yes\n";
  unit += "RestrictRealtime=yes\n";
  unit += "RestrictSUIDSGID=yes\n";
  unit += "LockPersonality=yes\n";
  unit += "SystemCallArchitectures=native\n\n";
  unit += "[Install]\n";
  unit += "WantedBy=multi-user.target\n";
  return unit;
}

}  // namespace banger::system
