#include <catch2/catch.hpp>

#include "reconciler/access/ssh_client_config.h"

namespace banger::access {
namespace {

const std::string kBlock =
    "# BEGIN banger (managed by banger ssh-config)\n"
    "Include /home/u/.config/banger/ssh/config\n"
    "# END banger\n";
const std::string kInclude = "/home/u/.config/banger/ssh/config";

TEST_CASE("the managed block goes on top and comes off byte-identically") {
  const std::vector<std::string> user_configs = {
      "",
      "Host *\n  ServerAliveInterval 30\n",
      "\n\n# leading blank lines\nHost a\n",
      "Host x\n  User y",  // no trailing newline
      "Host a\r\n  User b\r\n",
  };
  for (const auto& user : user_configs) {
    INFO(user);
    std::string once = InstallManagedBlock(user, kInclude);
    CHECK(once == kBlock + user);
    CHECK(InstallManagedBlock(once, kInclude) == once);  // idempotent
    std::string removed = RemoveManagedBlock(once);
    CHECK(removed == user);
    CHECK(RemoveManagedBlock(removed) == user);  // idempotent
  }
}

TEST_CASE("install moves a block found lower down to the top") {
  std::string user_before = "Host a\n  User b\n";
  std::string user_after = "Host c\n";
  std::string misplaced = user_before + kBlock + user_after;
  CHECK(InstallManagedBlock(misplaced, kInclude) == kBlock + user_before + user_after);
  CHECK(RemoveManagedBlock(misplaced) == user_before + user_after);
}

TEST_CASE("a BEGIN line without END is left alone") {
  std::string broken = "# BEGIN banger (managed by banger ssh-config)\nHost a\n";
  CHECK(RemoveManagedBlock(broken) == broken);
}

TEST_CASE("paths with spaces and percent signs are quoted for ssh_config") {
  CHECK(InstallManagedBlock("", "/home/a b/100%/config") ==
        "# BEGIN banger (managed by banger ssh-config)\n"
        "Include \"/home/a b/100%%/config\"\n"
        "# END banger\n");
}

TEST_CASE("RenderVmHostsConfig writes one Host entry per VM") {
  SshPaths p = SshPaths::ForConfigDir("/c");
  std::string out = RenderVmHostsConfig(p, {{"web", "172.30.0.5"}, {"db", "172.30.0.6"}});
  CHECK(out ==
        "# Written by banger on every apply; edits here are overwritten.\n"
        "\nHost web.vm\n  HostName 172.30.0.5\n  User root\n  IdentityFile /c/ssh/id_ed25519\n"
        "  IdentitiesOnly yes\n  UserKnownHostsFile /c/ssh/known_hosts\n  HostKeyAlias web.vm\n"
        "  StrictHostKeyChecking yes\n"
        "\nHost db.vm\n  HostName 172.30.0.6\n  User root\n  IdentityFile /c/ssh/id_ed25519\n"
        "  IdentitiesOnly yes\n  UserKnownHostsFile /c/ssh/known_hosts\n  HostKeyAlias db.vm\n"
        "  StrictHostKeyChecking yes\n");
  CHECK(RenderVmHostsConfig(p, {{"web", "10.0.0.2"}}, 2222).find("  Port 2222\n") != std::string::npos);
  CHECK(RenderVmHostsConfig(p, {}).find("Host ") == std::string::npos);
}

TEST_CASE("SshClientArgv pins the key, known_hosts and alias") {
  SshPaths p = SshPaths::ForConfigDir("/c");
  using V = std::vector<std::string>;
  CHECK(SshClientArgv(p, "web", "172.30.0.5") ==
        V{"ssh", "-i", "/c/ssh/id_ed25519", "-o", "UserKnownHostsFile=/c/ssh/known_hosts",
          "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "HostKeyAlias=web.vm",
          "-l", "root", "172.30.0.5"});
  V with_cmd = SshClientArgv(p, "web", "172.30.0.5", {"echo", "a b"}, 2222);
  CHECK(V(with_cmd.begin() + 11, with_cmd.end()) ==
        V{"-p", "2222", "-l", "root", "172.30.0.5", "--", "echo 'a b'"});
  CHECK(SshPaths::ForConfigDir("/c").pub == "/c/ssh/id_ed25519.pub");
}

}  // namespace
}  // namespace banger::access
