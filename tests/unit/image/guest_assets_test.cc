#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <set>

#include "reconciler/image/guest_assets.h"
#include "reconciler/image/staging_walk.h"
#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::image;

namespace {

std::string ReadLinkAt(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

}  // namespace

TEST_CASE("embedded guest files match guest/rootfs") {
  // .incbin inputs are not build dependencies; a stale binary fails here.
  for (const GuestFile& f : GuestFiles()) {
    INFO(f.source_path);
    auto on_disk = ReadFile(JoinPath(testing::SourceDir(), std::string(f.source_path)));
    REQUIRE(on_disk.ok());
    CHECK(*on_disk == f.content);
    CHECK(std::string(f.source_path) == "guest/rootfs/" + std::string(f.image_path));
  }
}

TEST_CASE("the embedded agent is this build's static banger-agent") {
  auto built = ReadFile(JoinPath(testing::BinaryDir(), "guest/agent/banger-agent"));
  REQUIRE(built.ok());
  CHECK(GuestAgentBinary() == *built);
  // A static ELF executable: no program interpreter to find in the image.
  REQUIRE(built->size() > 64);
  CHECK(built->compare(0, 4, "\x7f" "ELF") == 0);
  CHECK(built->find("/lib64/ld-linux") == std::string::npos);
}

TEST_CASE("every file under guest/rootfs is installed") {
  std::set<std::string> embedded;
  for (const GuestFile& f : GuestFiles()) embedded.insert(std::string(f.image_path));
  std::set<std::string> on_disk;
  Status st = WalkStaging(JoinPath(testing::SourceDir(), "guest/rootfs"),
                          [&](const std::string& rel, const struct stat& s) -> Status {
                            if (S_ISREG(s.st_mode)) on_disk.insert(rel);
                            return OkStatus();
                          });
  REQUIRE(st.ok());
  CHECK(on_disk == embedded);
}

TEST_CASE("the asset set is complete") {
  std::set<std::string> paths;
  for (const GuestFile& f : GuestFiles()) paths.insert(std::string(f.image_path));
  for (const char* required : {"usr/lib/banger/net-bootstrap.sh", "usr/lib/banger/ready.sh",
                               "etc/systemd/system/banger-net.service",
                               "etc/systemd/system/banger-hostkeys.service",
                               "etc/systemd/system/banger-ready.service",
                               "etc/ssh/sshd_config.d/banger.conf"}) {
    CHECK(paths.count(required) == 1);
  }
  for (const GuestFile& f : GuestFiles()) {
    bool script = std::string(f.image_path).find(".sh") != std::string::npos ||
                  f.image_path == "usr/lib/banger/init";
    CHECK(f.mode == (script ? 0755u : 0644u));
  }
  std::string sshd;
  for (const GuestFile& f : GuestFiles()) {
    if (f.image_path == "etc/ssh/sshd_config.d/banger.conf") sshd = std::string(f.content);
  }
  for (const char* line : {"PermitRootLogin prohibit-password\n", "PasswordAuthentication no\n",
                           "KbdInteractiveAuthentication no\n", "StrictModes yes\n"}) {
    CHECK(sshd.find(line) != std::string::npos);
  }
}

TEST_CASE("unit ordering: network before sshd, keys before sshd, readiness after") {
  auto content = [](std::string_view path) {
    for (const GuestFile& f : GuestFiles()) {
      if (f.image_path == path) return std::string(f.content);
    }
    return std::string();
  };
  std::string net = content("etc/systemd/system/banger-net.service");
  CHECK(net.find("Before=network.target network-online.target ssh.service") != std::string::npos);
  CHECK(net.find("WantedBy=multi-user.target") != std::string::npos);
  CHECK(net.find("Type=oneshot") != std::string::npos);
  std::string keys = content("etc/systemd/system/banger-hostkeys.service");
  CHECK(keys.find("Before=ssh.service") != std::string::npos);
  CHECK(keys.find("ExecStart=/usr/bin/ssh-keygen -A") != std::string::npos);
  std::string ready = content("etc/systemd/system/banger-ready.service");
  CHECK(ready.find("After=ssh.service") != std::string::npos);
}

TEST_CASE("injection installs assets, enables units and drops host keys") {
  TempDir dir = testing::ScratchDir();
  const std::string root = dir.path();
  testing::WriteFile(root, "etc/ssh/ssh_host_ed25519_key", "secret");
  testing::WriteFile(root, "etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAA");
  testing::WriteFile(root, "etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\n");
  testing::WriteFile(root, "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  testing::WriteFile(root, "usr/lib/systemd/system/ssh.service", "[Unit]\n");
  RootfsTree tree(root);
  tree.Set("etc/ssh/ssh_host_ed25519_key", EntryMeta{0, 0, S_IFREG | 0600, 0, {}});

  REQUIRE(InjectGuestAssets(tree).ok());

  CHECK_FALSE(PathExists(root + "/etc/ssh/ssh_host_ed25519_key"));
  CHECK_FALSE(PathExists(root + "/etc/ssh/ssh_host_ed25519_key.pub"));
  CHECK(tree.Find("etc/ssh/ssh_host_ed25519_key") == nullptr);
  CHECK(*ReadFile(root + "/etc/machine-id") == "");
  REQUIRE(tree.Find("etc/machine-id"));
  CHECK(tree.Find("etc/machine-id")->mode == (S_IFREG | 0444));

  const EntryMeta* script = tree.Find("usr/lib/banger/net-bootstrap.sh");
  REQUIRE(script);
  CHECK(script->mode == (S_IFREG | 0755));
  CHECK(script->uid == 0);
  REQUIRE(tree.Find("usr/lib/banger"));
  CHECK(tree.Find("usr/lib/banger")->mode == (S_IFDIR | 0755));

  const std::string wants = root + "/etc/systemd/system/multi-user.target.wants/";
  CHECK(ReadLinkAt(wants + "banger-net.service") == "/etc/systemd/system/banger-net.service");
  CHECK(ReadLinkAt(wants + "banger-hostkeys.service") == "/etc/systemd/system/banger-hostkeys.service");
  CHECK(ReadLinkAt(wants + "banger-ready.service") == "/etc/systemd/system/banger-ready.service");
  CHECK(ReadLinkAt(wants + "banger-agent.service") == "/etc/systemd/system/banger-agent.service");
  CHECK(ReadLinkAt(wants + "ssh.service") == "/lib/systemd/system/ssh.service");
  // The agent, in every image, root-owned and executable.
  REQUIRE(tree.Find(kGuestAgentPath));
  CHECK(tree.Find(kGuestAgentPath)->mode == (S_IFREG | 0755));
  CHECK(*ReadFile(root + "/" + kGuestAgentPath) == GuestAgentBinary());
  // No udev in this tree: serial gettys would wait for device units.
  CHECK(ReadLinkAt(root + "/etc/systemd/system/serial-getty@ttyS0.service") == "/dev/null");
  REQUIRE(tree.Find("etc/systemd/system/serial-getty@ttyS0.service"));
  CHECK(tree.Find("etc/systemd/system/serial-getty@ttyS0.service")->mode == (S_IFLNK | 0777));
}

TEST_CASE("images with udev keep their gettys; images without sshd get no ssh link") {
  TempDir dir = testing::ScratchDir();
  testing::WriteFile(dir.path(), "usr/lib/systemd/systemd-udevd", "");
  RootfsTree tree(dir.path());
  auto links = GuestLinks(tree);
  for (const auto& l : links) {
    CHECK(l.target != "/dev/null");
    CHECK(l.image_path.find("ssh.service") == std::string::npos);
  }
  // banger-net, -hostkeys, -ready, -agent, -firstboot, -ldconfig
  CHECK(links.size() == 6);
}

TEST_CASE("init detection: systemd links keep systemd, anything else gets banger's init") {
  struct Case {
    const char* link;
    const char* target;
    GuestInit want;
  };
  const Case cases[] = {
      {"sbin/init", "/lib/systemd/systemd", GuestInit::kSystemd},
      {"usr/sbin/init", "../lib/systemd/systemd", GuestInit::kSystemd},
      {"sbin/init", "/bin/busybox", GuestInit::kBanger},
      {"sbin/init", "openrc-init", GuestInit::kBanger},
      {nullptr, nullptr, GuestInit::kBanger},  // container image: no init
  };
  for (const Case& c : cases) {
    INFO((c.link ? c.link : "(none)") << " -> " << (c.target ? c.target : ""));
    TempDir dir = testing::ScratchDir();
    REQUIRE(MakeDirs(dir.path() + "/sbin").ok());
    REQUIRE(MakeDirs(dir.path() + "/usr/sbin").ok());
    if (c.link) REQUIRE(symlink(c.target, (dir.path() + "/" + c.link).c_str()) == 0);
    CHECK(DetectInit(RootfsTree(dir.path())) == c.want);
  }
}

TEST_CASE("init detection does not follow an image's symlinked /sbin into the host") {
  TempDir dir = testing::ScratchDir();
  // The host's /sbin/init is systemd on most machines; the image's is not.
  REQUIRE(symlink("/sbin", (dir.path() + "/sbin").c_str()) == 0);
  CHECK(DetectInit(RootfsTree(dir.path())) == GuestInit::kBanger);
}

TEST_CASE("an image without systemd gets banger's init kit; a systemd image does not") {
  TempDir plain = testing::ScratchDir();
  testing::WriteFile(plain.path(), "etc/os-release", "ID=debian\n");
  RootfsTree tree(plain.path());
  auto init = InjectGuestAssets(tree);
  REQUIRE(init.ok());
  CHECK(*init == GuestInit::kBanger);
  for (const char* f : {"usr/lib/banger/init", "usr/lib/banger/inittab", "usr/lib/banger/boot.sh",
                        "usr/lib/banger/shutdown.sh", "usr/lib/banger/first-boot.sh",
                        kGuestAgentPath}) {
    INFO(f);
    CHECK(PathExists(plain.path() + "/" + f));
    CHECK(tree.Find(f));
  }
  CHECK(ReadLinkAt(plain.path() + "/usr/lib/banger/bin/ip") == "../busybox");
  REQUIRE(tree.Find("usr/lib/banger/bin/ip"));
  CHECK(tree.Find("usr/lib/banger/bin/ip")->mode == (S_IFLNK | 0777));

  TempDir sysd = testing::ScratchDir();
  REQUIRE(MakeDirs(sysd.path() + "/usr/sbin").ok());
  REQUIRE(symlink("/lib/systemd/systemd", (sysd.path() + "/usr/sbin/init").c_str()) == 0);
  RootfsTree tree2(sysd.path());
  auto init2 = InjectGuestAssets(tree2);
  REQUIRE(init2.ok());
  CHECK(*init2 == GuestInit::kSystemd);
  CHECK_FALSE(PathExists(sysd.path() + "/usr/lib/banger/init"));
  CHECK(PathExists(sysd.path() + "/" + kGuestAgentPath));
  CHECK_FALSE(PathExists(sysd.path() + "/usr/lib/banger/bin"));
  CHECK(PathExists(sysd.path() + "/usr/lib/banger/first-boot.sh"));
  CHECK(ReadLinkAt(sysd.path() +
                   "/etc/systemd/system/multi-user.target.wants/banger-firstboot.service") ==
        "/etc/systemd/system/banger-firstboot.service");
}
