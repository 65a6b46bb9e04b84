#include <catch2/catch.hpp>

#include "reconciler/disk/cow.h"
#include "reconciler/disk/cow_method.h"
#include "reconciler/disk/disk_file.h"
#include "reconciler/disk/fs_probe.h"

using namespace banger;
using namespace banger::disk;

namespace {
CowProbe Probe(const std::string& fs, bool reflink) { return CowProbe{fs, reflink}; }
}  // namespace

TEST_CASE("QEMU always gets a qcow2 overlay") {
  for (bool reflink : {false, true}) {
    auto m = ChooseCowMethod("qemu", Probe("xfs", reflink));
    REQUIRE(m.ok());
    CHECK(*m == CowMethod::kQcow2);
  }
}

TEST_CASE("Firecracker gets a raw disk: reflink, else a sparse copy") {
  struct Row {
    bool reflink;
    CowMethod want;
  };
  const Row rows[] = {
      {true, CowMethod::kReflink},
      {false, CowMethod::kCopy},
  };
  for (const Row& row : rows) {
    INFO("reflink=" << row.reflink);
    auto m = ChooseCowMethod("firecracker", Probe("ext4", row.reflink));
    REQUIRE(m.ok());
    CHECK(*m == row.want);
    CHECK(DriveFormat(*m) == "raw");
  }
}

TEST_CASE("an unknown VMM is refused by name") {
  auto m = ChooseCowMethod("cloud-hypervisor", Probe("xfs", true));
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().code() == Code::kInvalidArgument);
  CHECK(m.error().message().find("'cloud-hypervisor'") != std::string::npos);
}

TEST_CASE("method names round-trip and unknown names are refused") {
  for (CowMethod m : {CowMethod::kQcow2, CowMethod::kReflink, CowMethod::kCopy}) {
    auto parsed = ParseCowMethod(CowMethodName(m));
    REQUIRE(parsed.ok());
    CHECK(*parsed == m);
  }
  // Device-mapper snapshots are not a method: a VM's disk is always a file.
  CHECK_FALSE(ParseCowMethod("dm-snapshot").ok());
  auto bad = ParseCowMethod("overlayfs");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() ==
        "unknown copy-on-write method 'overlayfs' (expected qcow2, reflink or copy)");
}

TEST_CASE("human descriptions for doctor and vm show") {
  CHECK(DescribeCowMethod(CowMethod::kQcow2, Probe("ext4", false)) == "qcow2 overlay");
  CHECK(DescribeCowMethod(CowMethod::kReflink, Probe("xfs", true)) == "reflink (xfs)");
  CHECK(DescribeCowMethod(CowMethod::kReflink, Probe("btrfs", true)) == "reflink (btrfs)");
  CHECK(DescribeCowMethod(CowMethod::kReflink, Probe("", true)) == "reflink");
  CHECK(DescribeCowMethod(CowMethod::kCopy, Probe("tmpfs", false)) == "sparse copy");
  CHECK(DriveFormat(CowMethod::kQcow2) == "qcow2");
}

TEST_CASE("filesystem magic numbers are named") {
  CHECK(FilesystemName(0x58465342) == "xfs");
  CHECK(FilesystemName(static_cast<long>(0x9123683EUL)) == "btrfs");
  CHECK(FilesystemName(0xEF53) == "ext4");
  CHECK(FilesystemName(0x01021994) == "tmpfs");
  CHECK(FilesystemName(0x1234) == "0x1234");
}

TEST_CASE("qcow2 overlay command pins the backing format") {
  CHECK(Qcow2OverlayArgv("/img/base/rootfs.ext4", "/vms/web/.rootfs.qcow2.partial-ab12") ==
        std::vector<std::string>{"qemu-img", "create", "-q", "-f", "qcow2", "-b",
                                 "/img/base/rootfs.ext4", "-F", "raw",
                                 "/vms/web/.rootfs.qcow2.partial-ab12"});
}

TEST_CASE("staged files sit hidden next to their final name") {
  CHECK(StagingTemplate("/vms/web/rootfs.qcow2") == "/vms/web/.rootfs.qcow2.partial-XXXXXX");
  CHECK(StagingTemplate("work.ext4") == "./.work.ext4.partial-XXXXXX");
}
