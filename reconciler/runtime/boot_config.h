// How a VM is booted: the kernel command line the guest's initramfs and
// network bootstrap read, and the launch description handed to the VMM
// driver. Pure functions, so the contract with guest/ is tested in one place.
#pragma once

#include <string>

#include "reconciler/vmm/driver.h"
#include "specs/desired.h"

namespace banger::runtime {

struct BootParams {
  std::string vm;
  std::string address;   // "172.30.0.5/24"; empty: no network
  std::string gateway;   // "172.30.0.1"
  std::string dns;       // empty: none
  long tsc_khz = 0;      // host TSC rate; 0: let the guest calibrate
};

// The host's TSC rate from /proc/cpuinfo ("cpu MHz"), 0 when unknown.
// Under TCG on a loaded host the guest's own calibration against the PIT
// fails and the kernel stalls before userspace; telling it the rate avoids
// that, and under KVM it is the rate the guest would measure anyway.
long HostTscKhz();

// "console=ttyS0 root=/dev/vda rw banger.work=/dev/vdb banger.hostname=web
//  banger.ip=172.30.0.5/24 banger.gw=172.30.0.1 ..."
std::string KernelCommandLine(const BootParams& params);

// Files of one VM in its directory.
struct VmFiles {
  std::string dir;
  std::string rootfs;      // rootfs.qcow2 or rootfs.ext4 (by CoW method)
  std::string work_disk;   // work.ext4
  std::string console_log;
  std::string host_keys;   // keys the guest reported, one per line
};
VmFiles FilesOf(const std::string& vm_dir, bool qcow2_rootfs);

// The guest's IPv4 prefix length and gateway (first host) of a subnet.
struct SubnetInfo {
  int prefix = 24;
  std::string gateway;
};
Result<SubnetInfo> DescribeSubnet(const std::string& cidr);

}  // namespace banger::runtime
