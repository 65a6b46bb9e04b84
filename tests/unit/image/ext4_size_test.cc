#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "reconciler/disk/ext4_builder.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::disk;

namespace {
constexpr uint64_t kMiB = 1 << 20;
}

TEST_CASE("the minimum covers data, inode tables and the journal") {
  Ext4Content empty;
  uint64_t min_empty = MinimumImageBytes(empty);
  CHECK(min_empty % kMiB == 0);
  CHECK(min_empty >= 16 * kMiB);
  CHECK(min_empty < 64 * kMiB);

  Ext4Content big{300 * kMiB, 12000, 290 * kMiB};
  uint64_t min_big = MinimumImageBytes(big);
  // 300 MiB of blocks, ~3.5 MiB of inode tables, a 16+ MiB journal.
  CHECK(min_big > 300 * kMiB + 16 * kMiB + 12000 * 256);
  CHECK(min_big < 400 * kMiB);

  Ext4Content many_inodes{10 * kMiB, 500000, 0};
  CHECK(MinimumImageBytes(many_inodes) > 500000ull * 256);
}

TEST_CASE("the default size leaves room to work in") {
  Ext4Content small{kMiB, 10, kMiB};
  CHECK(DefaultImageBytes(small) >= MinimumImageBytes(small) + 512 * kMiB);
  Ext4Content big{4096 * kMiB, 100000, 4000 * kMiB};
  CHECK(DefaultImageBytes(big) >= MinimumImageBytes(big) * 3 / 2);
  CHECK(DefaultImageBytes(big) % kMiB == 0);
}

TEST_CASE("inode count follows the image size, never below the content") {
  Ext4Content c{kMiB, 100000, 0};
  CHECK(InodeCount(c, 64 * kMiB) >= 100000 + 20000);
  CHECK(InodeCount(Ext4Content{}, 1024 * kMiB) == 1024 * kMiB / 16384);
}

TEST_CASE("a requested size that is too small names the image and both sizes") {
  Ext4Content c{200 * kMiB, 5000, 190 * kMiB};
  auto r = ChooseImageSize(c, 100 * kMiB, "image 'web'");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Code::kInvalidArgument);
  const std::string& m = r.error().message();
  CHECK(m.rfind("image 'web': content needs at least ", 0) == 0);
  CHECK(m.find("190 MiB of files") != std::string::npos);
  CHECK(m.find("but size is 100 MiB") != std::string::npos);

  auto ok = ChooseImageSize(c, 2048 * kMiB + 1, "image 'web'");
  REQUIRE(ok.ok());
  CHECK(*ok == 2048 * kMiB + 4096);  // rounded up to whole blocks
  CHECK(*ChooseImageSize(c, std::nullopt, "image 'web'") == DefaultImageBytes(c));
}

TEST_CASE("measuring counts blocks, hardlinks once, and metadata-only nodes") {
  TempDir dir = testing::ScratchDir();
  testing::WriteFile(dir.path(), "a", std::string(5000, 'x'));   // 2 blocks
  testing::WriteFile(dir.path(), "sub/b", std::string(10, 'y'));  // 1 block
  REQUIRE(link((dir.path() + "/a").c_str(), (dir.path() + "/sub/hard").c_str()) == 0);
  REQUIRE(symlink(std::string(80, 'l').c_str(), (dir.path() + "/longlink").c_str()) == 0);
  REQUIRE(symlink("short", (dir.path() + "/shortlink").c_str()) == 0);
  REQUIRE(mkdir((dir.path() + "/dev").c_str(), 0755) == 0);
  image::RootfsTree tree(dir.path());
  tree.Set("dev/null", image::EntryMeta{0, 0, S_IFCHR | 0666, makedev(1, 3), {}});
  tree.Set("gone", image::EntryMeta{0, 0, S_IFREG | 0644, 0, {}});  // stale: not counted

  auto c = MeasureTree(tree);
  REQUIRE(c.ok());
  // a, sub, b, dev, longlink, shortlink, dev/null, the root (hard shares a's inode)
  CHECK(c->inodes == 8);
  CHECK(c->apparent_bytes == 5010);
  // 3 file blocks + 1 long symlink block + directory blocks (root, sub, dev)
  CHECK(c->data_bytes == (3 + 1 + 3) * 4096);
}
