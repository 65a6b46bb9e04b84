// The guest scripts run for real under /bin/sh, with BANGER_SYSROOT standing
// in for /etc, /sys and /dev and fake `ip`/`hostname` commands that record
// their arguments.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "reconciler/image/guest_assets.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "tests/unit/image/embedded_guest_file.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::image;

namespace {

struct GuestSandbox {
  TempDir dir = testing::ScratchDir("banger-guest-");
  std::string root() const { return dir.path() + "/sysroot"; }
  std::string bin() const { return dir.path() + "/bin"; }
  std::string log() const { return dir.path() + "/calls.log"; }

  GuestSandbox() {
    // Each fake appends "name arg arg ..." to the log.
    for (const char* tool : {"ip", "hostname"}) {
      std::string path = testing::WriteFile(
          bin(), tool,
          std::string("#!/bin/sh\necho \"") + tool + " $*\" >> \"" + log() + "\"\n");
      chmod(path.c_str(), 0755);
    }
    testing::WriteFile(root(), "etc/hosts", "127.0.0.1\tlocalhost\n");
  }

  void AddNic(const std::string& name, bool with_device) {
    REQUIRE(MakeDirs(root() + "/sys/class/net/" + name).ok());
    if (with_device) REQUIRE(MakeDirs(root() + "/sys/class/net/" + name + "/device").ok());
  }

  ExecResult Run(const std::string& script_path, const std::string& cmdline) {
    std::string script = testing::WriteFile(dir.path(), "script.sh", Embedded(script_path));
    std::string cmdline_file = testing::WriteFile(dir.path(), "cmdline", cmdline + "\n");
    ExecRequest req;
    req.argv = {"/bin/sh", script, cmdline_file};
    req.env = std::vector<std::string>{"PATH=" + bin() + ":/usr/bin:/bin",
                                       "BANGER_SYSROOT=" + root(), "LANG=C"};
    auto r = SystemRunner().Run(req);
    REQUIRE(r.ok());
    return *r;
  }

  std::string Calls() const { return ReadFile(log()).value_or(""); }
};

}  // namespace

TEST_CASE("network bootstrap configures the first device-backed NIC") {
  GuestSandbox box;
  box.AddNic("lo", false);
  box.AddNic("dummy0", false);
  box.AddNic("eth0", true);
  auto r = box.Run("usr/lib/banger/net-bootstrap.sh",
                   "console=ttyS0 root=/dev/vda banger.ip=172.30.0.5/24 banger.gw=172.30.0.1 "
                   "banger.dns=172.30.0.1 banger.hostname=web-1 quiet");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(box.Calls() ==
        "ip link set dev lo up\n"
        "ip link set dev eth0 up\n"
        "ip addr replace 172.30.0.5/24 dev eth0\n"
        "ip route replace default via 172.30.0.1 dev eth0\n"
        "hostname web-1\n");
  CHECK(*ReadFile(box.root() + "/etc/resolv.conf") == "nameserver 172.30.0.1\nsearch vm\n");
  CHECK(*ReadFile(box.root() + "/etc/hostname") == "web-1\n");
  CHECK(*ReadFile(box.root() + "/etc/hosts") == "127.0.0.1\tlocalhost\n127.0.1.1\tweb-1\n");
}

TEST_CASE("network bootstrap without a gateway, dns or name only sets the address") {
  GuestSandbox box;
  box.AddNic("enp0s1", false);
  auto r = box.Run("usr/lib/banger/net-bootstrap.sh", "banger.ip=10.0.0.2/16");
  REQUIRE(r.exit_code == 0);
  CHECK(box.Calls() ==
        "ip link set dev lo up\n"
        "ip link set dev enp0s1 up\n"
        "ip addr replace 10.0.0.2/16 dev enp0s1\n");
  CHECK_FALSE(PathExists(box.root() + "/etc/resolv.conf"));
}

TEST_CASE("network bootstrap does nothing without banger.ip") {
  GuestSandbox box;
  box.AddNic("eth0", true);
  auto r = box.Run("usr/lib/banger/net-bootstrap.sh", "console=ttyS0 banger.gw=10.0.0.1");
  CHECK(r.exit_code == 0);
  CHECK(box.Calls() == "");
}

TEST_CASE("network bootstrap fails when there is no NIC and rejects odd hostnames") {
  GuestSandbox box;
  box.AddNic("lo", false);
  auto r = box.Run("usr/lib/banger/net-bootstrap.sh", "banger.ip=10.0.0.2/24");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("no network interface") != std::string::npos);

  GuestSandbox box2;
  box2.AddNic("eth0", true);
  auto r2 = box2.Run("usr/lib/banger/net-bootstrap.sh", "banger.ip=10.0.0.2/24 banger.hostname=a/b;c");
  CHECK(r2.exit_code == 0);
  CHECK(box2.Calls().find("hostname") == std::string::npos);
  CHECK_FALSE(PathExists(box2.root() + "/etc/hostname"));
}

TEST_CASE("readiness marker lists host keys and the agent on the console, never on the agent port") {
  GuestSandbox box;
  testing::WriteFile(box.root(), "etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAAC3Nz root@x\n");
  testing::WriteFile(box.root(), "etc/ssh/ssh_host_rsa_key.pub", "ssh-rsa AAAAB3Nz root@x\n");
  testing::WriteFile(box.root(), "etc/hostname", "web-1\n");
  testing::WriteFile(box.root(), "dev/console", "");
  testing::WriteFile(box.root(), "sys/class/virtio-ports/vport2p1/name", "org.banger.agent\n");
  testing::WriteFile(box.root(), "dev/vport2p1", "");
  auto r = box.Run("usr/lib/banger/ready.sh", "");
  REQUIRE(r.exit_code == 0);
  CHECK(*ReadFile(box.root() + "/dev/console") ==
        "BANGER-HOSTKEY ssh-ed25519 AAAAC3Nz\n"
        "BANGER-HOSTKEY ssh-rsa AAAAB3Nz\n"
        "BANGER-READY web-1\n");
  // The agent owns the port.
  CHECK(*ReadFile(box.root() + "/dev/vport2p1") == "");

  testing::WriteFile(box.root(), "usr/lib/banger/banger-agent", "");
  REQUIRE(chmod((box.root() + "/usr/lib/banger/banger-agent").c_str(), 0755) == 0);
  testing::WriteFile(box.root(), "dev/console", "");
  REQUIRE(box.Run("usr/lib/banger/ready.sh", "").exit_code == 0);
  CHECK(*ReadFile(box.root() + "/dev/console") ==
        "BANGER-HOSTKEY ssh-ed25519 AAAAC3Nz\n"
        "BANGER-HOSTKEY ssh-rsa AAAAB3Nz\n"
        "BANGER-AGENT\n"
        "BANGER-READY web-1\n");
}
