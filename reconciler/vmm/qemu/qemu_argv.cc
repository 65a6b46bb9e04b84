#include "reconciler/vmm/qemu/qemu_argv.h"

#include <cctype>

#include "reconciler/vmm/qemu/accel_probe.h"

namespace banger::vmm {
namespace {

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 32 || !isalpha(static_cast<unsigned char>(id[0]))) return false;
  for (char c : id) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

bool ValidMac(const std::string& mac) {
  if (mac.size() != 17) return false;
  for (size_t i = 0; i < mac.size(); ++i) {
    if (i % 3 == 2 ? mac[i] != ':' : !isxdigit(static_cast<unsigned char>(mac[i]))) return false;
  }
  return true;
}

Status Validate(const LaunchConfig& c, const QemuHostPlan& plan) {
  const std::string vm = "vm " + Quote(c.name);
  if (plan.binary.empty()) return FailedPrecondition(vm + ": no qemu binary");
  if (plan.accel != "kvm" && plan.accel != "tcg")
    return InvalidArgument(vm + ": unknown accelerator " + Quote(plan.accel));
  if (c.vcpus < 1 || c.vcpus > 255)
    return InvalidArgument(vm + ": vcpus must be in 1..255, got " + std::to_string(c.vcpus));
  if (c.memory_bytes < (16u << 20))
    return InvalidArgument(vm + ": memory must be at least 16 MiB");
  if (c.kernel.empty()) return InvalidArgument(vm + ": no kernel");
  if (plan.qmp_socket.empty()) return InvalidArgument(vm + ": no QMP socket path");
  for (const auto& d : c.drives) {
    if (!ValidId(d.id)) return InvalidArgument(vm + ": invalid drive id " + Quote(d.id));
    if (d.path.empty()) return InvalidArgument(vm + ": drive " + Quote(d.id) + " has no path");
    if (d.format != "raw" && d.format != "qcow2")
      return InvalidArgument(vm + ": drive " + Quote(d.id) + ": unsupported format " +
                             Quote(d.format) + " (raw or qcow2)");
  }
  for (const auto& n : c.nets) {
    if (n.tap_fd < 0 && n.tap.empty())
      return InvalidArgument(vm + ": a network interface needs a tap name or fd");
    if (!n.mac.empty() && !ValidMac(n.mac))
      return InvalidArgument(vm + ": invalid MAC " + Quote(n.mac));
  }
  if (c.want_channel && plan.vsock_cid == 0 && plan.channel_socket.empty())
    return InvalidArgument(vm + ": a channel needs a socket path or a vsock CID");
  return OkStatus();
}

}  // namespace

std::string QemuOptValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

uint32_t VsockCidForName(const std::string& name) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : name) {
    h ^= c;
    h *= 16777619u;
  }
  return 3 + h % ((1u << 31) - 3);
}

Result<std::vector<std::string>> BuildQemuArgv(const LaunchConfig& c,
                                               const QemuHostPlan& plan) {
  BANGER_RETURN_IF_ERROR(Validate(c, plan));
  std::vector<std::string> a = {plan.binary, "-M", kQemuMachine,
                                "-nodefaults", "-no-user-config", "-display", "none"};
  for (auto& arg : AccelArgs(plan.accel)) a.push_back(arg);
  a.insert(a.end(), {"-smp", std::to_string(c.vcpus),
                     "-m", std::to_string(c.memory_bytes >> 20) + "M",
                     "-kernel", c.kernel});
  if (!c.initrd.empty()) a.insert(a.end(), {"-initrd", c.initrd});
  if (!c.cmdline.empty()) a.insert(a.end(), {"-append", c.cmdline});

  // Serial console on stdout, which the driver connects to the capped
  // logger. signal=off: a ^C reaching QEMU's stdio must not kill the VM.
  a.insert(a.end(), {"-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console"});
  a.insert(a.end(), {"-chardev",
                     "socket,id=qmp,path=" + QemuOptValue(plan.qmp_socket) + ",server=on,wait=off",
                     "-mon", "chardev=qmp,mode=control"});

  for (const auto& d : c.drives) {
    std::string drive = "id=" + d.id + ",file=" + QemuOptValue(d.path) + ",format=" + d.format +
                        ",if=none,discard=unmap";
    if (d.read_only) drive += ",readonly=on";
    a.insert(a.end(), {"-drive", drive, "-device", "virtio-blk-device,drive=" + d.id});
  }

  for (size_t i = 0; i < c.nets.size(); ++i) {
    const auto& n = c.nets[i];
    const std::string id = "n" + std::to_string(i);
    std::string netdev = "tap,id=" + id;
    if (n.tap_fd >= 0) {
      netdev += ",fd=" + std::to_string(n.tap_fd);
    } else {
      // script=no: QEMU would otherwise run /etc/qemu-ifup as a shell script.
      netdev += ",ifname=" + QemuOptValue(n.tap) + ",script=no,downscript=no";
    }
    std::string device = "virtio-net-device,netdev=" + id;
    if (!n.mac.empty()) device += ",mac=" + n.mac;
    a.insert(a.end(), {"-netdev", netdev, "-device", device});
  }

  if (c.want_channel) {
    if (plan.vsock_cid != 0) {
      a.insert(a.end(), {"-device", "vhost-vsock-device,guest-cid=" + std::to_string(plan.vsock_cid)});
    } else {
      a.insert(a.end(),
               {"-device", "virtio-serial-device",
                "-chardev", "socket,id=ch0,path=" + QemuOptValue(plan.channel_socket) +
                                ",server=on,wait=off",
                "-device", std::string("virtserialport,chardev=ch0,name=") + kAgentPortName});
    }
  }
  // The device set above must be the one the state was saved with; QEMU
  // refuses a stream that names devices it does not have.
  if (plan.incoming) a.insert(a.end(), {"-S", "-incoming", "defer"});
  return a;
}

}  // namespace banger::vmm
