#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "reconciler/image/guest_assets.h"
#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::image;

TEST_CASE("/root's content moves to the seed with its metadata") {
  TempDir dir = testing::ScratchDir();
  const std::string rootfs = dir.path() + "/rootfs";
  const std::string seed_dir = dir.path() + "/seed";
  testing::WriteFile(rootfs, "root/.bashrc", "alias ll='ls -l'\n");
  testing::WriteFile(rootfs, "root/.ssh/config", "Host *\n");
  testing::WriteFile(rootfs, "etc/skel/.bashrc", "skel\n");
  REQUIRE(MakeDirs(seed_dir).ok());
  RootfsTree tree(rootfs);
  tree.Set("root", EntryMeta{0, 0, S_IFDIR | 0750, 0, {}});
  tree.Set("root/.ssh", EntryMeta{0, 0, S_IFDIR | 0700, 0, {}});
  tree.Set("root/.ssh/config", EntryMeta{0, 0, S_IFREG | 0600, 0, {}});
  tree.Set("root/.bashrc", EntryMeta{0, 0, S_IFREG | 0644, 0, {}});
  RootfsTree seed(seed_dir);

  REQUIRE(SplitWorkSeed(tree, seed).ok());

  CHECK(*ReadFile(seed_dir + "/.bashrc") == "alias ll='ls -l'\n");
  CHECK(*ReadFile(seed_dir + "/.ssh/config") == "Host *\n");
  REQUIRE(seed.Find(".ssh/config"));
  CHECK(seed.Find(".ssh/config")->mode == (S_IFREG | 0600));
  REQUIRE(seed.Find(""));
  CHECK(seed.Find("")->mode == (S_IFDIR | 0700));
  CHECK(seed.Find("")->uid == 0);

  auto left = ListDir(rootfs + "/root");
  REQUIRE(left.ok());
  CHECK(left->empty());
  REQUIRE(tree.Find("root"));
  CHECK(tree.Find("root")->mode == (S_IFDIR | 0700));
  CHECK(tree.Find("root/.bashrc") == nullptr);
}

TEST_CASE("an empty /root gets /etc/skel's shell profiles") {
  TempDir dir = testing::ScratchDir();
  const std::string rootfs = dir.path() + "/rootfs";
  const std::string seed_dir = dir.path() + "/seed";
  REQUIRE(MakeDirs(rootfs + "/root").ok());
  testing::WriteFile(rootfs, "etc/skel/.bashrc", "skel bashrc\n");
  testing::WriteFile(rootfs, "etc/skel/.profile", "skel profile\n");
  testing::WriteFile(rootfs, "etc/skel/.bash_logout", "not copied\n");
  REQUIRE(MakeDirs(seed_dir).ok());
  RootfsTree tree(rootfs);
  RootfsTree seed(seed_dir);
  REQUIRE(SplitWorkSeed(tree, seed).ok());
  auto names = ListDir(seed_dir);
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{".bashrc", ".profile"});
  REQUIRE(seed.Find(".profile"));
  CHECK(seed.Find(".profile")->mode == (S_IFREG | 0644));
  CHECK(seed.Find(".profile")->uid == 0);
}

TEST_CASE("an image without /root gets one") {
  TempDir dir = testing::ScratchDir();
  const std::string rootfs = dir.path() + "/rootfs";
  REQUIRE(MakeDirs(rootfs + "/etc").ok());
  REQUIRE(MakeDirs(dir.path() + "/seed").ok());
  RootfsTree tree(rootfs);
  RootfsTree seed(dir.path() + "/seed");
  REQUIRE(SplitWorkSeed(tree, seed).ok());
  CHECK(IsDirectory(rootfs + "/root"));
  CHECK(ListDir(dir.path() + "/seed")->empty());
}
