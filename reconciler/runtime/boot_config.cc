#include "reconciler/runtime/boot_config.h"

#include <arpa/inet.h>

#include <cstdlib>

#include "reconciler/os/fs.h"

namespace banger::runtime {

std::string KernelCommandLine(const BootParams& p) {
  // The initramfs mounts vda as / and vdb at /root (guest/initramfs/init);
  // banger-network reads banger.ip/gw/dns (guest/).
  std::string cmd = "console=ttyS0 reboot=t panic=-1 root=/dev/vda rw banger.work=/dev/vdb";
  cmd += " banger.hostname=" + p.vm;
  if (p.tsc_khz > 0) cmd += " tsc_early_khz=" + std::to_string(p.tsc_khz);
  if (!p.address.empty()) {
    cmd += " banger.ip=" + p.address;
    if (!p.gateway.empty()) cmd += " banger.gw=" + p.gateway;
    if (!p.dns.empty()) cmd += " banger.dns=" + p.dns;
  }
  return cmd;
}

long HostTscKhz() {
  auto info = ReadFile("/proc/cpuinfo");
  if (!info.ok()) return 0;
  size_t at = info->find("cpu MHz");
  if (at == std::string::npos) return 0;
  size_t colon = info->find(':', at);
  if (colon == std::string::npos) return 0;
  double mhz = std::strtod(info->c_str() + colon + 1, nullptr);
  return mhz > 0 ? static_cast<long>(mhz * 1000) : 0;
}

VmFiles FilesOf(const std::string& vm_dir, bool qcow2_rootfs) {
  VmFiles f;
  f.dir = vm_dir;
  f.rootfs = JoinPath(vm_dir, qcow2_rootfs ? "rootfs.qcow2" : "rootfs.ext4");
  f.work_disk = JoinPath(vm_dir, "work.ext4");
  f.console_log = JoinPath(vm_dir, "console.log");
  f.host_keys = JoinPath(vm_dir, "host_keys");
  return f;
}

Result<SubnetInfo> DescribeSubnet(const std::string& cidr) {
  const size_t slash = cidr.find('/');
  if (slash == std::string::npos) return InvalidArgument("subnet " + Quote(cidr) + " has no prefix");
  in_addr addr{};
  if (inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &addr) != 1)
    return InvalidArgument("subnet " + Quote(cidr) + " is not IPv4");
  int prefix = 0;
  try {
    prefix = std::stoi(cidr.substr(slash + 1));
  } catch (...) {
    return InvalidArgument("subnet " + Quote(cidr) + " has a bad prefix");
  }
  if (prefix < 1 || prefix > 30) return InvalidArgument("subnet " + Quote(cidr) + ": bad prefix");
  uint32_t host = ntohl(addr.s_addr);
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix);
  uint32_t gw = (host & mask) + 1;
  in_addr g{htonl(gw)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &g, buf, sizeof buf);
  return SubnetInfo{prefix, buf};
}

}  // namespace banger::runtime
