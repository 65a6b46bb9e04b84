// The access files banger keeps on the host: the managed key, the pinned
// host keys and the user's ~/.ssh/config block, against the real filesystem.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <thread>

#include "reconciler/access/known_hosts.h"
#include "reconciler/access/ssh_client_config.h"
#include "reconciler/access/ssh_dir.h"
#include "reconciler/os/exec.h"
#include "tests/support/test_env.h"

namespace banger::testing {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

ino_t InodeOf(const std::string& path) {
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

TEST_CASE("the managed key is generated once, 0600 in a 0700 dir, and reused") {
  TempDir dir = ScratchDir();
  auto paths = access::SshPaths::ForConfigDir(JoinPath(dir.path(), "config"));
  // Concurrent first uses agree on one key.
  std::vector<std::string> lines(4);
  std::vector<std::thread> threads;
  for (auto& line : lines) {
    threads.emplace_back([&] {
      RealCommandRunner runner;
      auto k = access::ManagedAuthorizedKey(paths, runner);
      line = k.ok() ? *k : "error: " + k.error().message();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& l : lines) CHECK(l == lines[0]);
  CHECK(lines[0].rfind("ssh-ed25519 AAAA", 0) == 0);
  CHECK(lines[0].substr(lines[0].size() - 7) == " banger");
  CHECK(ModeOf(paths.dir) == 0700);
  CHECK(ModeOf(paths.key) == 0600);

  const ino_t inode = InodeOf(paths.key);
  auto again = access::ManagedAuthorizedKey(paths, SystemRunner());
  REQUIRE(again.ok());
  CHECK(*again == lines[0]);
  CHECK(InodeOf(paths.key) == inode);
  // The pair matches: the public half derives from the private one.
  auto derived = RunChecked({.argv = {"ssh-keygen", "-y", "-f", paths.key}});
  REQUIRE(derived.ok());
  CHECK(lines[0].rfind(derived->out.substr(0, derived->out.find(' ', 12)), 0) == 0);
  // Nothing left from generation but the lock file.
  auto names = ListDir(paths.dir);
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{".id_ed25519.lock", "id_ed25519", "id_ed25519.pub"});
}

TEST_CASE("the known_hosts file pins, replaces and forgets a VM's keys") {
  TempDir dir = ScratchDir();
  auto paths = access::SshPaths::ForConfigDir(dir.path());
  access::KnownHostsFile file(paths.known_hosts, paths.known_hosts_lock);
  const std::string a = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAa/4QTgPwW2SQdyMmeDkWCypSyQKPPCEFDfj5/i6j+H";
  const std::string b = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPrCDI7VVg5xWQc5EU2x+7Q9eJmXhwjcbK2UgC0kuBfc";
  REQUIRE(file.Forget("web").ok());  // nothing there yet: fine, no file made
  CHECK_FALSE(PathExists(paths.known_hosts));
  REQUIRE(file.Pin("web", "172.30.0.5", {a + " root@web"}).ok());
  REQUIRE(file.Pin("db", "172.30.0.6", {b}).ok());
  REQUIRE(file.Pin("web", "172.30.0.7", {b}).ok());
  CHECK(*ReadFile(paths.known_hosts) == "db.vm,172.30.0.6 " + b + "\nweb.vm,172.30.0.7 " + b + "\n");
  CHECK(ModeOf(paths.known_hosts) == 0600);
  CHECK(file.Pinned("web")->size() == 1);

  CHECK_FALSE(file.Pin("web", "not-an-ip", {a}).ok());
  CHECK_FALSE(file.Pin("web", "172.30.0.5", {}).ok());
  CHECK_FALSE(file.Pin("web", "172.30.0.5", {"ssh-ed25519 AAAA"}).ok());
  REQUIRE(file.Forget("web").ok());
  CHECK(*ReadFile(paths.known_hosts) == "db.vm,172.30.0.6 " + b + "\n");
  CHECK(file.Pinned("web")->empty());
}

TEST_CASE("ssh-config install and uninstall keep the user's file byte-identical") {
  TempDir dir = ScratchDir();
  auto paths = access::SshPaths::ForConfigDir(JoinPath(dir.path(), "config"));
  const std::string user_config = JoinPath(dir.path(), "home/.ssh/config");

  // No ~/.ssh at all: created 0700, the config 0600.
  REQUIRE(access::InstallSshConfig(user_config, paths).ok());
  CHECK(ModeOf(JoinPath(dir.path(), "home/.ssh")) == 0700);
  CHECK(ModeOf(user_config) == 0600);
  CHECK(*ReadFile(user_config) == std::string(access::kManagedBlockBegin) + "\nInclude " +
                                      paths.client_config + "\n# END banger\n");
  REQUIRE(access::UninstallSshConfig(user_config).ok());
  CHECK(*ReadFile(user_config) == "");

  // An existing file keeps its bytes and its mode.
  const std::string mine = "Host *\n  ServerAliveInterval 30\n\nHost gw\n  User me";
  REQUIRE(AtomicWriteFile(user_config, mine, 0640).ok());
  REQUIRE(access::InstallSshConfig(user_config, paths).ok());
  const std::string installed = *ReadFile(user_config);
  const ino_t inode = InodeOf(user_config);
  REQUIRE(access::InstallSshConfig(user_config, paths).ok());  // idempotent: not even rewritten
  CHECK(InodeOf(user_config) == inode);
  CHECK(*ReadFile(user_config) == installed);
  CHECK(ModeOf(user_config) == 0640);
  REQUIRE(access::UninstallSshConfig(user_config).ok());
  REQUIRE(access::UninstallSshConfig(user_config).ok());
  CHECK(*ReadFile(user_config) == mine);

  // A symlinked config is edited at its target; the link stays a link.
  const std::string target = WriteFile(dir.path(), "dotfiles/ssh_config", mine);
  REQUIRE(unlink(user_config.c_str()) == 0);
  REQUIRE(symlink(target.c_str(), user_config.c_str()) == 0);
  REQUIRE(access::InstallSshConfig(user_config, paths).ok());
  struct stat st;
  REQUIRE(lstat(user_config.c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(ReadFile(target)->rfind(std::string(access::kManagedBlockBegin), 0) == 0);
  REQUIRE(access::UninstallSshConfig(user_config).ok());
  CHECK(*ReadFile(target) == mine);

  // Uninstall without a config is a no-op that creates nothing.
  const std::string none = JoinPath(dir.path(), "other/.ssh/config");
  REQUIRE(access::UninstallSshConfig(none).ok());
  CHECK_FALSE(PathExists(JoinPath(dir.path(), "other")));

  // The per-VM config is written 0600.
  REQUIRE(access::WriteSshConfig(paths, {{"web", "172.30.0.5"}}).ok());
  CHECK(ModeOf(paths.client_config) == 0600);
  CHECK(ReadFile(paths.client_config)->find("Host web.vm\n  HostName 172.30.0.5\n") != std::string::npos);
}

}  // namespace
}  // namespace banger::testing
