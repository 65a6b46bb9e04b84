#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "reconciler/vmm/qemu/accel_probe.h"
#include "reconciler/vmm/qemu/qemu_argv.h"

namespace banger::vmm {
namespace {

using Argv = std::vector<std::string>;

LaunchConfig BaseConfig() {
  LaunchConfig c;
  c.name = "web";
  c.vcpus = 2;
  c.memory_bytes = 1024ull << 20;
  c.kernel = "/k/vmlinuz";
  c.initrd = "/k/initrd.img";
  c.cmdline = "console=ttyS0 root=/dev/vda";
  c.run_dir = "/run/banger/web";
  c.want_channel = false;
  return c;
}

QemuHostPlan Plan() {
  QemuHostPlan p;
  p.binary = "/usr/bin/qemu-system-x86_64";
  p.accel = "tcg";
  p.qmp_socket = "/run/banger/web/qmp.sock";
  p.channel_socket = "/run/banger/web/channel.sock";
  return p;
}

const Argv kPrefix = {
    "/usr/bin/qemu-system-x86_64", "-M", "microvm,acpi=on,rtc=on", "-nodefaults",
    "-no-user-config", "-display", "none", "-accel", "tcg", "-smp", "2", "-m", "1024M",
    "-kernel", "/k/vmlinuz", "-initrd", "/k/initrd.img",
    "-append", "console=ttyS0 root=/dev/vda",
    "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
    "-chardev", "socket,id=qmp,path=/run/banger/web/qmp.sock,server=on,wait=off",
    "-mon", "chardev=qmp,mode=control"};

Argv Concat(Argv a, const Argv& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_CASE("qemu argv: raw root and qcow2 work disk, no network, no channel") {
  LaunchConfig c = BaseConfig();
  c.drives = {{"rootfs", "/v/root.qcow2", false, "qcow2"}, {"work", "/v/work.img", true, "raw"}};
  auto argv = BuildQemuArgv(c, Plan());
  REQUIRE(argv.ok());
  CHECK(*argv == Concat(kPrefix, {
      "-drive", "id=rootfs,file=/v/root.qcow2,format=qcow2,if=none,discard=unmap",
      "-device", "virtio-blk-device,drive=rootfs",
      "-drive", "id=work,file=/v/work.img,format=raw,if=none,discard=unmap,readonly=on",
      "-device", "virtio-blk-device,drive=work"}));
}

TEST_CASE("qemu argv: a tap fd is named by number, a tap name disables scripts") {
  LaunchConfig c = BaseConfig();
  c.nets = {{"bg-web0", 7, "02:00:00:00:00:01"}, {"bg-web1", -1, ""}};
  auto argv = BuildQemuArgv(c, Plan());
  REQUIRE(argv.ok());
  CHECK(*argv == Concat(kPrefix, {
      "-netdev", "tap,id=n0,fd=7",
      "-device", "virtio-net-device,netdev=n0,mac=02:00:00:00:00:01",
      "-netdev", "tap,id=n1,ifname=bg-web1,script=no,downscript=no",
      "-device", "virtio-net-device,netdev=n1"}));
}

TEST_CASE("qemu argv: channel is virtio-serial without vhost-vsock, vsock with it") {
  LaunchConfig c = BaseConfig();
  c.want_channel = true;
  QemuHostPlan plan = Plan();
  auto serial = BuildQemuArgv(c, plan);
  REQUIRE(serial.ok());
  CHECK(*serial == Concat(kPrefix, {
      "-device", "virtio-serial-device",
      "-chardev", "socket,id=ch0,path=/run/banger/web/channel.sock,server=on,wait=off",
      "-device", "virtserialport,chardev=ch0,name=org.banger.agent"}));

  plan.vsock_cid = 1234;
  auto vsock = BuildQemuArgv(c, plan);
  REQUIRE(vsock.ok());
  CHECK(*vsock == Concat(kPrefix, {"-device", "vhost-vsock-device,guest-cid=1234"}));
}

TEST_CASE("qemu argv: kvm uses the host cpu model") {
  QemuHostPlan plan = Plan();
  plan.accel = "kvm";
  auto argv = BuildQemuArgv(BaseConfig(), plan);
  REQUIRE(argv.ok());
  CHECK(Argv(argv->begin() + 7, argv->begin() + 11) == Argv{"-accel", "kvm", "-cpu", "host"});
  CHECK(AccelArgs("tcg") == Argv{"-accel", "tcg"});
}

TEST_CASE("qemu argv: commas in paths are escaped, optional parts omitted") {
  LaunchConfig c = BaseConfig();
  c.initrd.clear();
  c.cmdline.clear();
  c.drives = {{"rootfs", "/v/a,b.img", false, "raw"}};
  auto argv = BuildQemuArgv(c, Plan());
  REQUIRE(argv.ok());
  CHECK(std::find(argv->begin(), argv->end(), "-initrd") == argv->end());
  CHECK(std::find(argv->begin(), argv->end(), "-append") == argv->end());
  CHECK(std::find(argv->begin(), argv->end(),
                  "id=rootfs,file=/v/a,,b.img,format=raw,if=none,discard=unmap") != argv->end());
  CHECK(QemuOptValue("a,,b") == "a,,,,b");
}

TEST_CASE("qemu argv: invalid configurations are refused with the object named") {
  LaunchConfig c = BaseConfig();
  SECTION("zero vcpus") {
    c.vcpus = 0;
    auto argv = BuildQemuArgv(c, Plan());
    REQUIRE_FALSE(argv.ok());
    CHECK(argv.error().message() == "vm 'web': vcpus must be in 1..255, got 0");
  }
  SECTION("unknown disk format") {
    c.drives = {{"rootfs", "/v/r.vmdk", false, "vmdk"}};
    auto argv = BuildQemuArgv(c, Plan());
    REQUIRE_FALSE(argv.ok());
    CHECK(argv.error().message() ==
          "vm 'web': drive 'rootfs': unsupported format 'vmdk' (raw or qcow2)");
  }
  SECTION("drive id that would inject options") {
    c.drives = {{"root,file=/etc/shadow", "/v/r.img", false, "raw"}};
    auto argv = BuildQemuArgv(c, Plan());
    REQUIRE_FALSE(argv.ok());
    CHECK(argv.error().code() == Code::kInvalidArgument);
  }
  SECTION("bad MAC") {
    c.nets = {{"bg-web0", -1, "02:00:00:00:00"}};
    REQUIRE_FALSE(BuildQemuArgv(c, Plan()).ok());
  }
  SECTION("net without tap") {
    c.nets = {{"", -1, ""}};
    REQUIRE_FALSE(BuildQemuArgv(c, Plan()).ok());
  }
  SECTION("too little memory") {
    c.memory_bytes = 1 << 20;
    REQUIRE_FALSE(BuildQemuArgv(c, Plan()).ok());
  }
}

TEST_CASE("vsock CID from the name is stable and valid") {
  CHECK(VsockCidForName("web") == VsockCidForName("web"));
  CHECK(VsockCidForName("web") != VsockCidForName("db"));
  for (const char* n : {"", "a", "web", "a-very-long-vm-name-0123456789"}) {
    uint32_t cid = VsockCidForName(n);
    CHECK(cid >= 3);
    CHECK(cid < (1u << 31));
  }
}

}  // namespace
}  // namespace banger::vmm
