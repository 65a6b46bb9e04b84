// first-boot.sh runs for real under /bin/sh with BANGER_SYSROOT standing in
// for the guest's root and fake package managers on PATH that record their
// arguments and (when told to) install an sshd into the sysroot.
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

struct FirstBootSandbox {
  TempDir dir = testing::ScratchDir("banger-firstboot-");
  std::string root() const { return dir.path() + "/sysroot"; }
  std::string bin() const { return dir.path() + "/bin"; }
  std::string log() const { return dir.path() + "/calls.log"; }

  // `installs`: whether the fake managers put an sshd in place.
  explicit FirstBootSandbox(bool installs = true, int exit_code = 0) {
    const std::string install =
        installs ? "mkdir -p \"$BANGER_SYSROOT/usr/sbin\" && : > \"$BANGER_SYSROOT/usr/sbin/sshd\""
                   " && chmod 755 \"$BANGER_SYSROOT/usr/sbin/sshd\"\n"
                 : "";
    for (const char* tool : {"apt-get", "apk", "dnf", "yum", "pacman", "zypper", "systemctl",
                             "ssh-keygen"}) {
      std::string body = std::string("#!/bin/sh\necho \"") + tool + " $*\" >> \"" + log() + "\"\n";
      // apt-get notes whether service starts were blocked while it ran.
      if (std::string(tool) == "apt-get")
        body += "[ -e \"$BANGER_SYSROOT/usr/sbin/policy-rc.d\" ] && echo 'policy-rc.d present' >> \"" +
                log() + "\"\n";
      bool manager = std::string(tool) != "systemctl" && std::string(tool) != "ssh-keygen";
      if (manager) body += install + "exit " + std::to_string(exit_code) + "\n";
      std::string path = testing::WriteFile(bin(), tool, body);
      chmod(path.c_str(), 0755);
    }
    REQUIRE(MakeDirs(root() + "/dev").ok());
    REQUIRE(MakeDirs(root() + "/usr/sbin").ok());
  }

  void OsRelease(const std::string& text) { testing::WriteFile(root(), "etc/os-release", text); }

  ExecResult Run() {
    std::string script = testing::WriteFile(dir.path(), "first-boot.sh",
                                            Embedded("usr/lib/banger/first-boot.sh"));
    ExecRequest req;
    req.argv = {"/bin/sh", script};
    req.env = std::vector<std::string>{"PATH=" + bin() + ":/usr/bin:/bin",
                                       "BANGER_SYSROOT=" + root(), "LANG=C"};
    auto r = SystemRunner().Run(req);
    REQUIRE(r.ok());
    return *r;
  }

  std::string Calls() const { return ReadFile(log()).value_or(""); }
  std::string Console() const { return ReadFile(root() + "/dev/console").value_or(""); }
  bool Marked() const { return PathExists(root() + "/var/lib/banger/sshd-installed"); }
};

}  // namespace

TEST_CASE("first boot does nothing when the image has sshd") {
  FirstBootSandbox box;
  testing::WriteFile(box.root(), "usr/sbin/sshd", "");
  chmod((box.root() + "/usr/sbin/sshd").c_str(), 0755);
  box.OsRelease("ID=debian\n");
  auto r = box.Run();
  CHECK(r.exit_code == 0);
  CHECK(box.Calls().empty());
  CHECK_FALSE(box.Marked());
}

TEST_CASE("first boot picks the package manager from ID and ID_LIKE") {
  struct Case {
    const char* os_release;
    const char* expected_call;
  };
  const Case cases[] = {
      {"ID=debian\n", "apt-get install -y -q --no-install-recommends openssh-server"},
      {"ID=ubuntu\nID_LIKE=debian\n", "apt-get install -y -q --no-install-recommends openssh-server"},
      {"ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n",
       "apt-get install -y -q --no-install-recommends openssh-server"},
      {"ID=alpine\n", "apk add --no-cache openssh-server openssh-keygen"},
      {"ID=fedora\n", "dnf install -y openssh-server"},
      {"ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n", "dnf install -y openssh-server"},
      {"ID=arch\n", "pacman -Sy --noconfirm openssh"},
      {"ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\n",
       "zypper --non-interactive install openssh-server"},
  };
  for (const Case& c : cases) {
    INFO(c.os_release);
    FirstBootSandbox box;
    box.OsRelease(c.os_release);
    auto r = box.Run();
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(box.Calls().find(c.expected_call) != std::string::npos);
    CHECK(box.Marked());
    CHECK(box.Console().find("BANGER-FIRSTBOOT: installing an SSH server") != std::string::npos);
  }
}

TEST_CASE("Debian under systemd: package scripts start nothing, the script queues sshd") {
  FirstBootSandbox box;
  box.OsRelease("ID=debian\n");
  REQUIRE(MakeDirs(box.root() + "/run/systemd/system").ok());
  auto r = box.Run();
  REQUIRE(r.exit_code == 0);
  std::string calls = box.Calls();
  CHECK(calls.find("apt-get update -q\npolicy-rc.d present\n") != std::string::npos);
  CHECK_FALSE(PathExists(box.root() + "/usr/sbin/policy-rc.d"));
  CHECK(calls.find("systemctl start --no-block ssh.service") != std::string::npos);
}

TEST_CASE("Debian without systemd: service starts are blocked only during the install") {
  FirstBootSandbox box;
  box.OsRelease("ID=debian\n");
  testing::WriteFile(box.root(), "etc/ssh/sshd_config", "Port 22\n");
  auto r = box.Run();
  REQUIRE(r.exit_code == 0);
  CHECK(box.Calls().find("apt-get update -q\npolicy-rc.d present\n") != std::string::npos);
  CHECK_FALSE(PathExists(box.root() + "/usr/sbin/policy-rc.d"));
  // No systemd: nothing is enabled (banger's init starts sshd).
  CHECK(box.Calls().find("systemctl") == std::string::npos);
  // The drop-in needs an Include; one is put first.
  CHECK(*ReadFile(box.root() + "/etc/ssh/sshd_config") ==
        "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n");
}

TEST_CASE("under systemd the installed sshd unit is enabled and started") {
  FirstBootSandbox box;
  box.OsRelease("ID=fedora\n");
  REQUIRE(MakeDirs(box.root() + "/run/systemd/system").ok());
  testing::WriteFile(box.root(), "etc/ssh/sshd_config",
                     "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n");
  auto r = box.Run();
  REQUIRE(r.exit_code == 0);
  std::string calls = box.Calls();
  CHECK(calls.find("systemctl daemon-reload") != std::string::npos);
  // The fake `systemctl cat` succeeds for the first unit asked about.
  CHECK(calls.find("systemctl enable ssh.service\nsystemctl start --no-block ssh.service") !=
        std::string::npos);
  CHECK(calls.find("policy-rc.d") == std::string::npos);
  CHECK(*ReadFile(box.root() + "/etc/ssh/sshd_config") ==
        "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n");
}

TEST_CASE("first boot failures say what went wrong and what to do") {
  SECTION("unknown distribution") {
    FirstBootSandbox box;
    box.OsRelease("ID=gentoo\n");
    auto r = box.Run();
    CHECK(r.exit_code == 1);
    CHECK(box.Console().find("BANGER-FIRSTBOOT-ERROR: the image has no sshd and its "
                             "distribution (ID='gentoo' ID_LIKE='')") != std::string::npos);
    CHECK(box.Console().find("install an SSH server (openssh) in the image") != std::string::npos);
    CHECK(box.Calls().empty());
    CHECK_FALSE(box.Marked());
  }
  SECTION("no os-release at all") {
    FirstBootSandbox box;
    auto r = box.Run();
    CHECK(r.exit_code == 1);
    CHECK(box.Console().find("ID='' ID_LIKE=''") != std::string::npos);
  }
  SECTION("the package manager fails") {
    FirstBootSandbox box(/*installs=*/false, /*exit_code=*/100);
    box.OsRelease("ID=debian\n");
    auto r = box.Run();
    CHECK(r.exit_code == 1);
    CHECK(box.Console().find("failed (exit 100); check the VM's network and package sources") !=
          std::string::npos);
    CHECK_FALSE(box.Marked());
    CHECK_FALSE(PathExists(box.root() + "/usr/sbin/policy-rc.d"));
  }
  SECTION("the package manager succeeds without installing sshd") {
    FirstBootSandbox box(/*installs=*/false);
    box.OsRelease("ID=alpine\n");
    auto r = box.Run();
    CHECK(r.exit_code == 1);
    CHECK(box.Console().find("no sshd binary is installed") != std::string::npos);
  }
  SECTION("sshd vanished after an earlier install") {
    FirstBootSandbox box;
    box.OsRelease("ID=debian\n");
    testing::WriteFile(box.root(), "var/lib/banger/sshd-installed", "");
    auto r = box.Run();
    CHECK(r.exit_code == 1);
    CHECK(box.Console().find("installed on an earlier boot and is gone") != std::string::npos);
    CHECK(box.Calls().empty());
  }
}
