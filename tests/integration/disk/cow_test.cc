// Copy-on-write rootfs creation against real files, qemu-img, and loop-
// mounted XFS / ext4 / tmpfs.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "reconciler/disk/cow.h"
#include "reconciler/disk/fs_probe.h"
#include "reconciler/os/exec.h"
#include "tests/integration/disk/disk_fixtures.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::disk;
using namespace banger::testing;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

// A 32 MiB "rootfs" that is mostly holes.
void MakeBase(const std::string& path) {
  MakeSparseFile(path, 32 * kMiB,
                 {{0, kMiB, 'a'}, {10 * kMiB, 4096, 'b'}, {31 * kMiB, kMiB, 'c'}});
}

nlohmann::json QemuImgInfo(const std::string& path) {
  auto r = RunChecked(ExecRequest{.argv = {"qemu-img", "info", "--output=json", "-U", path}});
  REQUIRE(r.ok());
  return nlohmann::json::parse(r->out);
}

ExecResult QemuIo(const std::string& image, const std::string& command) {
  auto r = RunChecked(ExecRequest{.argv = {"qemu-io", "-f", "qcow2", "-c", command, image}});
  INFO(command << ": " << (r.ok() ? r->out : r.error().message()));
  REQUIRE(r.ok());
  return *r;
}

// Asserts the mount and loop device behind `image` are gone.
void CheckTornDown(const std::string& mount_dir, const std::string& image_file) {
  auto mounted = IsMountPoint(mount_dir);
  REQUIRE(mounted.ok());
  CHECK_FALSE(*mounted);
  auto loops = LoopDevicesFor(image_file);
  REQUIRE(loops.ok());
  CHECK(loops->empty());
}

bool IsRoot() { return geteuid() == 0; }

}  // namespace

TEST_CASE("qcow2 overlay is backed by the raw base and leaves it unchanged") {
  TempDir scratch = ScratchDir("banger-cow-");
  const std::string base = JoinPath(scratch.path(), "rootfs.ext4");
  MakeBase(base);
  const std::string base_before = ReadAll(base);
  // Through a symlink: the overlay must record the file, not the link.
  const std::string link = JoinPath(scratch.path(), "current.ext4");
  REQUIRE(symlink(base.c_str(), link.c_str()) == 0);
  const std::string dest = JoinPath(scratch.path(), "rootfs.qcow2");

  Status made = CreateCowRootfs(CowMethod::kQcow2, link, dest);
  INFO((made.ok() ? "" : made.error().message()));
  REQUIRE(made.ok());

  nlohmann::json info = QemuImgInfo(dest);
  CHECK(info["format"] == "qcow2");
  CHECK(info["backing-filename"] == base);
  CHECK(info["backing-filename-format"] == "raw");
  CHECK(info["virtual-size"] == 32 * kMiB);
  CHECK(FileSize(dest) < kMiB);  // an overlay, not a copy

  QemuIo(dest, "write -P 0x5a 0 64k");
  QemuIo(dest, "write -P 0x5b 20M 1M");
  QemuIo(dest, "read -P 0x5a 0 64k");
  QemuIo(dest, "read -P 0x62 10M 4k");  // unwritten: still the base's 'b'
  CHECK(ReadAll(base) == base_before);
  CHECK(StagedLeftovers(scratch.path()).empty());
}

TEST_CASE("an existing rootfs is never overwritten and failures leave nothing") {
  TempDir scratch = ScratchDir("banger-cow-");
  const std::string base = JoinPath(scratch.path(), "rootfs.ext4");
  MakeBase(base);
  const std::string dest = WriteFile(scratch.path(), "rootfs.qcow2", "keep me");

  for (CowMethod m : {CowMethod::kQcow2, CowMethod::kCopy}) {
    Status again = CreateCowRootfs(m, base, dest);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code() == Code::kAlreadyExists);
    CHECK(ReadAll(dest) == "keep me");
  }

  const std::string missing = JoinPath(scratch.path(), "no-such.ext4");
  for (CowMethod m : {CowMethod::kQcow2, CowMethod::kCopy, CowMethod::kReflink}) {
    const std::string out = JoinPath(scratch.path(), "vm.img");
    Status st = CreateCowRootfs(m, missing, out);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == Code::kNotFound);
    CHECK(st.error().message().find(Quote(missing)) != std::string::npos);
    CHECK_FALSE(PathExists(out));
  }
  CHECK(StagedLeftovers(scratch.path()).empty());
}

TEST_CASE("sparse copy keeps holes and content on ext4") {
  TempDir scratch = ScratchDir("banger-cow-");
  const std::string base = JoinPath(scratch.path(), "rootfs.ext4");
  MakeBase(base);
  const std::string dest = JoinPath(scratch.path(), "rootfs.raw");

  REQUIRE(CreateCowRootfs(CowMethod::kCopy, base, dest).ok());
  CHECK(FileSize(dest) == 32 * kMiB);
  CHECK(ReadAll(dest) == ReadAll(base));
  // 2 MiB + 4 KiB of data; allow for filesystem metadata blocks.
  CHECK(AllocatedBytes(dest) <= AllocatedBytes(base) + 64 * 1024);
  CHECK(AllocatedBytes(dest) < 3 * kMiB);

  WriteAt(dest, 0, "changed");
  CHECK(ReadAll(base).substr(0, 7) == "aaaaaaa");
}

TEST_CASE("ext4 and tmpfs have no reflink: Firecracker falls back to a copy") {
  if (!IsRoot()) {
    WARN("mounting tmpfs needs root; skipped");
    return;
  }
  TempDir scratch = ScratchDir("banger-cow-");
  auto probe_ext4 = ProbeCowMethods(scratch.path());
  REQUIRE(probe_ext4.ok());
  INFO("scratch filesystem: " << probe_ext4->fs_type);
  if (probe_ext4->fs_type == "ext4") {
    CHECK_FALSE(probe_ext4->reflink);
    CHECK(*ChooseCowMethod("firecracker", *probe_ext4) == CowMethod::kCopy);
    const std::string base = JoinPath(scratch.path(), "rootfs.ext4");
    MakeBase(base);
    Status refused = CreateCowRootfs(CowMethod::kReflink, base,
                                     JoinPath(scratch.path(), "vm.raw"));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code() == Code::kFailedPrecondition);
    CHECK_FALSE(PathExists(JoinPath(scratch.path(), "vm.raw")));
  }

  std::string tmpfs_dir;
  {
    auto tmpfs = MountTmpfs(scratch.path());
    REQUIRE(tmpfs.ok());
    tmpfs_dir = tmpfs->target();
    auto probe = ProbeCowMethods(tmpfs_dir);
    REQUIRE(probe.ok());
    CHECK(probe->fs_type == "tmpfs");
    CHECK_FALSE(probe->reflink);
    auto chosen = ChooseCowMethod("firecracker", *probe);
    REQUIRE(chosen.ok());
    CHECK(*chosen == CowMethod::kCopy);
    CHECK(DescribeCowMethod(*chosen, *probe) == "sparse copy");

    // Across filesystems (tmpfs -> ext4 scratch): holes survive the
    // fallback path as well.
    const std::string base = JoinPath(tmpfs_dir, "rootfs.ext4");
    MakeBase(base);
    const std::string dest = JoinPath(scratch.path(), "cross.raw");
    REQUIRE(CreateCowRootfs(CowMethod::kCopy, base, dest).ok());
    CHECK(ReadAll(dest) == ReadAll(base));
    CHECK(AllocatedBytes(dest) < 3 * kMiB);
    CHECK(ListDir(tmpfs_dir)->size() == 1);  // the probe left nothing behind
  }
  auto mounted = IsMountPoint(tmpfs_dir);
  REQUIRE(mounted.ok());
  CHECK_FALSE(*mounted);
}

TEST_CASE("reflink on a loop-mounted XFS shares extents") {
  if (!IsRoot()) {
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

    auto probe = ProbeCowMethods(mount_dir);
    REQUIRE(probe.ok());
    CHECK(probe->fs_type == "xfs");
    CHECK(probe->reflink);
    auto chosen = ChooseCowMethod("firecracker", *probe);
    REQUIRE(chosen.ok());
    CHECK(*chosen == CowMethod::kReflink);
    CHECK(DescribeCowMethod(*chosen, *probe) == "reflink (xfs)");

    const std::string base = JoinPath(mount_dir, "rootfs.ext4");
    MakeBase(base);
    const std::string base_before = ReadAll(base);
    const std::string dest = JoinPath(mount_dir, "rootfs.raw");
    Status made = CreateCowRootfs(CowMethod::kReflink, base, dest);
    INFO((made.ok() ? "" : made.error().message()));
    REQUIRE(made.ok());
    CHECK(ReadAll(dest) == base_before);
    CHECK(SharedExtentBytes(dest) >= 2 * kMiB);

    WriteAt(dest, 10 * kMiB, std::string(4096, 'z'));
    CHECK(ReadAll(base) == base_before);
    CHECK(ReadAll(dest).substr(10 * kMiB, 4096) == std::string(4096, 'z'));
    CHECK(StagedLeftovers(mount_dir).empty());
  }
  CheckTornDown(mount_dir, image_file);
}

TEST_CASE("a failing test body still tears the loop mount down") {
  if (!IsRoot()) {
    WARN("loop devices need root; skipped");
    return;
  }
  std::string mount_dir, image_file;
  try {
    auto xfs = MountXfsWithReflink(320 * kMiB);
    REQUIRE(xfs.ok());
    mount_dir = xfs->dir();
    image_file = xfs->image;
    throw std::runtime_error("simulated failure inside the test body");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "simulated failure inside the test body");
  }
  REQUIRE_FALSE(mount_dir.empty());
  CheckTornDown(mount_dir, image_file);
}
