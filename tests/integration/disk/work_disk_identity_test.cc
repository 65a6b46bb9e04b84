// The host's git identity provisioned into a real ext4 work disk with
// debugfs, read back by real git: the guest's own .gitconfig survives.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "reconciler/apply/effects.h"
#include "reconciler/disk/debugfs.h"
#include "reconciler/os/exec.h"
#include "reconciler/runtime/work_disk_provision.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::testing;

namespace {

// A 16 MiB ext4 work disk holding `tree`'s files at its root.
std::string MakeWorkDisk(const std::string& dir, const std::string& tree) {
  const std::string image = JoinPath(dir, "work.ext4");
  auto r = RunChecked(ExecRequest{.argv = {"mkfs.ext4", "-q", "-F", "-d", tree, image, "16M"}});
  INFO((r.ok() ? "" : r.error().message()));
  REQUIRE(r.ok());
  return image;
}

// What git reads from `content`, one "key=value" per line.
std::string GitConfigList(const std::string& dir, const std::string& content) {
  const std::string file = WriteFile(dir, "check.gitconfig", content);
  auto r = RunChecked(ExecRequest{.argv = {"git", "config", "--file", file, "--list"}});
  INFO((r.ok() ? "" : r.error().message()));
  REQUIRE(r.ok());
  return r->out;
}

}  // namespace

TEST_CASE("work disk: the git identity is set and the guest's .gitconfig kept") {
  TempDir dir = ScratchDir("banger-identity-");
  const std::string guest_config =
      "# the guest's own settings\n"
      "[core]\n\teditor = vim\n"
      "[user]\n\tname = Guest\n\tsigningkey = K1\n"
      "[include]\n\tpath = ~/.gitconfig.local\n";
  const std::string tree = JoinPath(dir.path(), "tree");
  const std::string config_path = WriteFile(tree, ".gitconfig", guest_config);
  REQUIRE(chmod(config_path.c_str(), 0600) == 0);
  const std::string image = MakeWorkDisk(dir.path(), tree);

  runtime::WorkDiskContent content;
  content.git_identity = {"Jane \"JD\" Doe", "jane\\doe@example.org"};
  CommandRunner& runner = SystemRunner();
  apply::NullProgress progress;
  REQUIRE(runtime::ProvisionWorkDisk(image, content, runner, progress).ok());

  disk::Debugfs fs(image, runner);
  auto text = fs.ReadFile("/.gitconfig");
  REQUIRE(text.ok());
  CHECK(GitConfigList(dir.path(), *text) ==
        "core.editor=vim\n"
        "user.name=Jane \"JD\" Doe\n"
        "user.signingkey=K1\n"
        "user.email=jane\\doe@example.org\n"  // joins the guest's [user] section
        "include.path=~/.gitconfig.local\n");
  CHECK(text->rfind("# the guest's own settings\n", 0) == 0);
  auto info = fs.Stat("/.gitconfig");
  REQUIRE(info.ok());
  REQUIRE(info->has_value());
  CHECK(((*info)->mode & 07777) == 0600);  // the guest's mode stays

  // A second boot with the same identity changes nothing.
  REQUIRE(runtime::ProvisionWorkDisk(image, content, runner, progress).ok());
  CHECK(*fs.ReadFile("/.gitconfig") == *text);
}

TEST_CASE("work disk: without a .gitconfig the identity makes one") {
  TempDir dir = ScratchDir("banger-identity-");
  const std::string tree = JoinPath(dir.path(), "tree");
  WriteFile(tree, "hello.txt", "hi\n");
  const std::string image = MakeWorkDisk(dir.path(), tree);
  runtime::WorkDiskContent content;
  content.git_identity = {"Jane Doe", ""};
  CommandRunner& runner = SystemRunner();
  apply::NullProgress progress;
  REQUIRE(runtime::ProvisionWorkDisk(image, content, runner, progress).ok());
  disk::Debugfs fs(image, runner);
  auto text = fs.ReadFile("/.gitconfig");
  REQUIRE(text.ok());
  CHECK(GitConfigList(dir.path(), *text) == "user.name=Jane Doe\n");
  auto info = fs.Stat("/.gitconfig");
  REQUIRE(info.ok());
  REQUIRE(info->has_value());
  CHECK(((*info)->mode & 07777) == 0644);
  CHECK((*info)->uid == 0);
}
