// Work disk clone and grow against real ext4 images, e2fsck and resize2fs.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <sstream>

#include "reconciler/disk/work_disk.h"
#include "reconciler/os/exec.h"
#include "tests/integration/disk/disk_fixtures.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::disk;
using namespace banger::testing;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

// Runs commands for real and remembers their argv.
class RecordingRunner : public CommandRunner {
 public:
  Result<ExecResult> Run(const ExecRequest& request) override {
    commands.push_back(request.argv);
    return SystemRunner().Run(request);
  }
  std::vector<std::vector<std::string>> commands;
};

// A 32 MiB ext4 seed holding /hello.txt.
std::string MakeSeed(const std::string& dir) {
  const std::string tree = JoinPath(dir, "seed-tree");
  WriteFile(tree, "hello.txt", "hello from the seed\n");
  const std::string seed = JoinPath(dir, "work-seed.ext4");
  auto r = RunChecked(ExecRequest{.argv = {"mkfs.ext4", "-q", "-F", "-d", tree, seed, "32M"}});
  INFO((r.ok() ? "" : r.error().message()));
  REQUIRE(r.ok());
  return seed;
}

// `e2fsck -fn` exits 0 only for a clean filesystem, and changes nothing.
void CheckFsClean(const std::string& image) {
  auto r = SystemRunner().Run(ExecRequest{.argv = {"e2fsck", "-f", "-n", image}});
  REQUIRE(r.ok());
  INFO(r->out << r->err);
  CHECK(r->exit_code == 0);
}

// Filesystem size from the superblock: block count * block size.
uint64_t FsBytes(const std::string& image) {
  auto r = RunChecked(ExecRequest{.argv = {"dumpe2fs", "-h", image}});
  REQUIRE(r.ok());
  uint64_t blocks = 0, block_size = 0;
  std::istringstream lines(r->out);
  std::string line;
  while (std::getline(lines, line)) {
    auto value = [&](const char* key) { return std::stoull(line.substr(std::string(key).size())); };
    if (line.rfind("Block count:", 0) == 0) blocks = value("Block count:");
    if (line.rfind("Block size:", 0) == 0) block_size = value("Block size:");
  }
  return blocks * block_size;
}

std::string CatInImage(const std::string& image, const std::string& path) {
  auto r = RunChecked(ExecRequest{.argv = {"debugfs", "-R", "cat " + path, image}});
  REQUIRE(r.ok());
  return r->out;
}

}  // namespace

TEST_CASE("a work disk is cloned from the seed and grown to the VM's size") {
  TempDir scratch = ScratchDir("banger-work-");
  const std::string seed = MakeSeed(scratch.path());
  const std::string seed_before = ReadAll(seed);
  const std::string disk = JoinPath(scratch.path(), "work.ext4");

  RecordingRunner runner;
  Status made = CreateWorkDisk(seed, disk, 128 * kMiB, runner);
  INFO((made.ok() ? "" : made.error().message()));
  REQUIRE(made.ok());

  REQUIRE(runner.commands.size() == 2);
  CHECK(runner.commands[0][0] == "e2fsck");
  CHECK(runner.commands[1][0] == "resize2fs");
  CHECK(runner.commands[1][2] == "131072K");
  // The tools worked on the staged file, never on the final name.
  CHECK(runner.commands[0].back().find(".work.ext4.partial-") != std::string::npos);
  CHECK(runner.commands[1][1] == runner.commands[0].back());

  auto size = WorkDiskSize(disk);
  REQUIRE(size.ok());
  CHECK(*size == 128 * kMiB);
  CHECK(FsBytes(disk) == 128 * kMiB);
  CheckFsClean(disk);
  CHECK(CatInImage(disk, "/hello.txt") == "hello from the seed\n");
  CHECK(ReadAll(seed) == seed_before);
  CHECK(AllocatedBytes(disk) < 64 * kMiB);  // the grown area stays sparse
  CHECK(StagedLeftovers(scratch.path()).empty());
}

TEST_CASE("a work disk of the seed's size is a plain clone") {
  TempDir scratch = ScratchDir("banger-work-");
  const std::string seed = MakeSeed(scratch.path());
  const std::string disk = JoinPath(scratch.path(), "work.ext4");
  RecordingRunner runner;
  REQUIRE(CreateWorkDisk(seed, disk, 32 * kMiB, runner).ok());
  CHECK(runner.commands.empty());
  CHECK(ReadAll(disk) == ReadAll(seed));

  Status again = CreateWorkDisk(seed, disk, 32 * kMiB);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code() == Code::kAlreadyExists);
}

TEST_CASE("a work disk smaller than the seed is refused") {
  TempDir scratch = ScratchDir("banger-work-");
  const std::string seed = MakeSeed(scratch.path());
  const std::string disk = JoinPath(scratch.path(), "work.ext4");
  Status st = CreateWorkDisk(seed, disk, 16 * kMiB);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == Code::kFailedPrecondition);
  CHECK(st.error().message() == "create work disk " + Quote(disk) + " from " + Quote(seed) +
                                    ": cannot shrink work disk from 32 MiB to 16 MiB: "
                                    "only growing is supported");
  CHECK_FALSE(PathExists(disk));
  CHECK(StagedLeftovers(scratch.path()).empty());
}

TEST_CASE("growing keeps the data, shrinking is refused and changes nothing") {
  TempDir scratch = ScratchDir("banger-work-");
  const std::string seed = MakeSeed(scratch.path());
  const std::string disk = JoinPath(scratch.path(), "work.ext4");
  REQUIRE(CreateWorkDisk(seed, disk, 64 * kMiB).ok());

  Status grown = GrowWorkDisk(disk, 256 * kMiB);
  INFO((grown.ok() ? "" : grown.error().message()));
  REQUIRE(grown.ok());
  CHECK(*WorkDiskSize(disk) == 256 * kMiB);
  CHECK(FsBytes(disk) == 256 * kMiB);
  CheckFsClean(disk);
  CHECK(CatInImage(disk, "/hello.txt") == "hello from the seed\n");

  const uint64_t inode = Inode(disk);
  RecordingRunner runner;
  REQUIRE(GrowWorkDisk(disk, 256 * kMiB, runner).ok());  // same size: nothing to do
  CHECK(runner.commands.empty());
  CHECK(Inode(disk) == inode);

  Status shrink = GrowWorkDisk(disk, 128 * kMiB);
  REQUIRE_FALSE(shrink.ok());
  CHECK(shrink.error().code() == Code::kFailedPrecondition);
  CHECK(shrink.error().message() == "grow work disk " + Quote(disk) +
                                        ": cannot shrink work disk from 256 MiB to 128 MiB: "
                                        "only growing is supported");
  CHECK(*WorkDiskSize(disk) == 256 * kMiB);
  CHECK(Inode(disk) == inode);
  CHECK(StagedLeftovers(scratch.path()).empty());
}

TEST_CASE("a grow that fails leaves the original disk untouched") {
  TempDir scratch = ScratchDir("banger-work-");
  // Not a filesystem: e2fsck cannot find a superblock.
  const std::string disk = JoinPath(scratch.path(), "work.ext4");
  MakeSparseFile(disk, 8 * kMiB, {{0, 2 * kMiB, 'x'}});
  const std::string before = ReadAll(disk);

  Status st = GrowWorkDisk(disk, 16 * kMiB);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message().find("check filesystem") != std::string::npos);
  CHECK(ReadAll(disk) == before);
  CHECK(StagedLeftovers(scratch.path()).empty());

  Status missing = GrowWorkDisk(JoinPath(scratch.path(), "absent.ext4"), 16 * kMiB);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == Code::kNotFound);
}

TEST_CASE("on XFS the work disk is a reflink of the seed") {
  if (geteuid() != 0) {
    WARN("loop devices need root; skipped");
    return;
  }
  std::string mount_dir, image_file;
  {
    auto xfs = MountXfsWithReflink(320 * kMiB);
    INFO((xfs.ok() ? "" : xfs.error().message()));
    REQUIRE(xfs.ok());
    mount_dir = xfs->dir();
    image_file = xfs->image;

    const std::string seed = MakeSeed(mount_dir);
    const std::string disk = JoinPath(mount_dir, "work.ext4");
    REQUIRE(CreateWorkDisk(seed, disk, 32 * kMiB).ok());
    CHECK(SharedExtentBytes(disk) > 0);
    CHECK(SharedExtentBytes(disk) == SharedExtentBytes(seed));

    REQUIRE(GrowWorkDisk(disk, 96 * kMiB).ok());
    CheckFsClean(disk);
    CHECK(CatInImage(disk, "/hello.txt") == "hello from the seed\n");
    CHECK(StagedLeftovers(mount_dir).empty());
  }
  auto mounted = IsMountPoint(mount_dir);
  REQUIRE(mounted.ok());
  CHECK_FALSE(*mounted);
  auto loops = LoopDevicesFor(image_file);
  REQUIRE(loops.ok());
  CHECK(loops->empty());
}
