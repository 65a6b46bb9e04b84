#include <catch2/catch.hpp>

#include "reconciler/runtime/boot_config.h"
#include "reconciler/runtime/console_ready.h"
#include "reconciler/runtime/work_disk_provision.h"

using namespace banger;
using namespace banger::runtime;

TEST_CASE("the kernel command line carries the guest contract") {
  CHECK(KernelCommandLine({"web", "", "", "", 0}) ==
        "console=ttyS0 reboot=t panic=-1 root=/dev/vda rw banger.work=/dev/vdb "
        "banger.hostname=web");
  CHECK(KernelCommandLine({"db", "172.30.0.5/24", "172.30.0.1", "", 2400000}) ==
        "console=ttyS0 reboot=t panic=-1 root=/dev/vda rw banger.work=/dev/vdb "
        "banger.hostname=db tsc_early_khz=2400000 banger.ip=172.30.0.5/24 banger.gw=172.30.0.1");
}

TEST_CASE("subnets give the prefix and the bridge's gateway") {
  auto s = DescribeSubnet("172.30.0.0/24");
  REQUIRE(s.ok());
  CHECK(s->prefix == 24);
  CHECK(s->gateway == "172.30.0.1");
  CHECK(DescribeSubnet("10.8.4.0/22")->gateway == "10.8.4.1");
  CHECK_FALSE(DescribeSubnet("10.0.0.0").ok());
  CHECK_FALSE(DescribeSubnet("bogus/24").ok());
}

TEST_CASE("the console scan finds keys, readiness and initramfs failures") {
  auto scan = ScanConsole(
      "[    1.2] Linux version 6.1\r\n"
      "BANGER-HOSTKEY ssh-ed25519 AAAAC3Nza root@web\n"
      "[  OK  ] Started ssh.service\n"
      "BANGER-READY web\n");
  CHECK(scan.ready);
  CHECK(scan.host_keys == HostKeys{"ssh-ed25519 AAAAC3Nza root@web"});
  CHECK(scan.failure.empty());
  CHECK_FALSE(scan.agent);  // an image from before the agent
  auto with_agent = ScanConsole("BANGER-HOSTKEY ssh-ed25519 AAAA\nBANGER-AGENT\nBANGER-READY web\n");
  CHECK(with_agent.agent);
  CHECK(with_agent.ready);
  CHECK(with_agent.host_keys == HostKeys{"ssh-ed25519 AAAA"});
  auto bad = ScanConsole("BANGER-INITRAMFS-ERROR: root device /dev/vda did not appear\n");
  CHECK_FALSE(bad.ready);
  CHECK(bad.failure == "root device /dev/vda did not appear");
  CHECK_FALSE(ScanConsole("BANGER-READ").ready);
}

TEST_CASE("the console scan follows a first-boot SSH server install") {
  auto installing = ScanConsole("banger-net: eth0 10.0.0.2/24\n"
                                "BANGER-FIRSTBOOT: installing an SSH server (debian)\n");
  CHECK(installing.installing);
  CHECK_FALSE(installing.ready);
  CHECK(installing.failure.empty());
  CHECK_FALSE(ScanConsole("BANGER-READY web\n").installing);
  auto failed = ScanConsole(
      "BANGER-FIRSTBOOT: installing an SSH server (debian)\n"
      "BANGER-FIRSTBOOT-ERROR: installing the SSH server with the debian package manager failed "
      "(exit 100)\n"
      "BANGER-FIRSTBOOT-ERROR: installing the SSH server with the debian package manager failed "
      "(exit 100)\n");
  CHECK(failed.failure ==
        "first boot: installing the SSH server with the debian package manager failed (exit 100)");
  // An initramfs failure is the root cause when both appear.
  auto both = ScanConsole("BANGER-INITRAMFS-ERROR: cannot mount root\n"
                          "BANGER-FIRSTBOOT-ERROR: later noise\n");
  CHECK(both.failure == "cannot mount root");
}

TEST_CASE("file_sync guest paths map into the work disk") {
  CHECK(*WorkDiskPath("/root/.gitconfig") == "/.gitconfig");
  CHECK(*WorkDiskPath("~/creds/token") == "/creds/token");
  CHECK_FALSE(WorkDiskPath("/etc/passwd").ok());
  CHECK_FALSE(WorkDiskPath("/root/").ok());
}
