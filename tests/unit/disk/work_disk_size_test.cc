#include <catch2/catch.hpp>

#include "reconciler/disk/work_disk.h"

using namespace banger;
using namespace banger::disk;

namespace {
constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;
}  // namespace

TEST_CASE("growing, keeping and shrinking a work disk") {
  auto grow = PlanWorkDiskResize(2 * kGiB, 8 * kGiB);
  REQUIRE(grow.ok());
  CHECK(*grow == ResizeAction::kGrow);

  auto same = PlanWorkDiskResize(4 * kGiB, 4 * kGiB);
  REQUIRE(same.ok());
  CHECK(*same == ResizeAction::kNone);

  auto shrink = PlanWorkDiskResize(8 * kGiB, 4 * kGiB);
  REQUIRE_FALSE(shrink.ok());
  CHECK(shrink.error().code() == Code::kFailedPrecondition);
  CHECK(shrink.error().message() ==
        "cannot shrink work disk from 8 GiB to 4 GiB: only growing is supported");

  // One block smaller is still a shrink.
  CHECK_FALSE(PlanWorkDiskResize(4 * kGiB, 4 * kGiB - 4096).ok());
}

TEST_CASE("work disk sizes must be whole 4 KiB blocks and non-zero") {
  auto zero = PlanWorkDiskResize(0, 0);
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().code() == Code::kInvalidArgument);

  auto odd = PlanWorkDiskResize(kGiB, kGiB + 512);
  REQUIRE_FALSE(odd.ok());
  CHECK(odd.error().code() == Code::kInvalidArgument);
  CHECK(odd.error().message() == "work disk size 1073742336 bytes is not a multiple of 4 KiB");

  // A seed that is not block-aligned can still grow to an aligned size.
  auto from_odd = PlanWorkDiskResize(kGiB + 512, 2 * kGiB);
  REQUIRE(from_odd.ok());
  CHECK(*from_odd == ResizeAction::kGrow);
}

TEST_CASE("sizes read as whole binary units when they are") {
  CHECK(DescribeBytes(4 * kGiB) == "4 GiB");
  CHECK(DescribeBytes(1536 * kMiB) == "1536 MiB");
  CHECK(DescribeBytes(2ull << 40) == "2 TiB");
  CHECK(DescribeBytes(8192) == "8 KiB");
  CHECK(DescribeBytes(4097) == "4097 bytes");
  CHECK(DescribeBytes(0) == "0 bytes");
}

TEST_CASE("filesystem tool commands") {
  CHECK(E2fsckArgv("/vms/web/.work.ext4.partial-x") ==
        std::vector<std::string>{"e2fsck", "-f", "-y", "/vms/web/.work.ext4.partial-x"});
  // resize2fs takes the size in KiB so no byte count is misread as blocks.
  CHECK(Resize2fsArgv("/w.ext4", 8 * kGiB) ==
        std::vector<std::string>{"resize2fs", "/w.ext4", "8388608K"});
}

TEST_CASE("e2fsck exit statuses") {
  auto with = [](int code, std::string out = "") {
    ExecResult r;
    r.exit_code = code;
    r.out = std::move(out);
    return r;
  };
  CHECK(CheckE2fsckResult(with(0), "/w").ok());
  CHECK(CheckE2fsckResult(with(1), "/w").ok());
  CHECK(CheckE2fsckResult(with(2), "/w").ok());

  Status left = CheckE2fsckResult(with(4, "Inode 12 has bad blocks\n"), "/w");
  REQUIRE_FALSE(left.ok());
  CHECK(left.error().code() == Code::kCorruption);
  CHECK(left.error().message() ==
        "check filesystem '/w': errors left uncorrected: Inode 12 has bad blocks");

  Status op = CheckE2fsckResult(with(8), "/w");
  REQUIRE_FALSE(op.ok());
  CHECK(op.error().code() == Code::kIo);
  CHECK(op.error().message() == "check filesystem '/w': e2fsck exit status 8");

  ExecResult timed = with(-1);
  timed.timed_out = true;
  CHECK(CheckE2fsckResult(timed, "/w").error().code() == Code::kTimeout);

  ExecResult killed = with(-1);
  killed.term_signal = 9;
  CHECK(CheckE2fsckResult(killed, "/w").error().message() ==
        "check filesystem '/w': e2fsck killed by signal 9");
}
