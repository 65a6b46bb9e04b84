#include <catch2/catch.hpp>

#include "reconciler/kernel/bzimage.h"
#include "reconciler/kernel/decompress.h"
#include "tests/fixtures/kernel/kernel_fixtures.h"

using namespace banger;
using namespace banger::kernel;

TEST_CASE("vmlinux is extracted from the bzImage payload", "[bzimage]") {
  const std::string vmlinux = testing::FakeVmlinux();
  for (const char* filter : {"gzip", "xz", "zstd", "lz4"}) {
    INFO(filter);
    std::string img = testing::FakeBzImage(vmlinux, "6.1.99-test", filter);
    REQUIRE(IsBzImage(img));
    auto release = BzImageRelease(img);
    REQUIRE(release.ok());
    CHECK(*release == "6.1.99-test");
    auto out = ExtractVmlinux(img);
    INFO((out.ok() ? "" : out.error().message()));
    REQUIRE(out.ok());
    CHECK(*out == vmlinux);
  }
}

TEST_CASE("a payload whose size does not match the header is refused", "[bzimage]") {
  std::string img = testing::FakeBzImage(testing::FakeVmlinux(), "6.1.99-test");
  // The appended size is the last 4 bytes of the payload (end of file here).
  img[img.size() - 4] ^= 0x01;
  auto out = ExtractVmlinux(img);
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().message(), Catch::Contains("header says"));
}

TEST_CASE("non-ELF payloads and non-bzImages are refused", "[bzimage]") {
  std::string img = testing::FakeBzImage("not an elf image", "6.1.99-test");
  auto out = ExtractVmlinux(img);
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().message(), Catch::Contains("ELF"));
  CHECK_FALSE(IsBzImage("\x7f" "ELF plain"));
  CHECK_FALSE(ExtractVmlinux(std::string(4096, '\0')).ok());
}

TEST_CASE("module images are decompressed by magic", "[bzimage]") {
  std::string elf = testing::ModuleElf("virtio", "");
  CHECK(*ModuleBytes(elf, "plain.ko") == elf);
  CHECK(*ModuleBytes(testing::Compress(elf, "xz"), "a.ko.xz") == elf);
  CHECK(*ModuleBytes(testing::Compress(elf, "zstd"), "a.ko.zst") == elf);
  CHECK(*ModuleBytes(testing::Compress(elf, "gzip"), "a.ko.gz") == elf);
  auto junk = ModuleBytes("garbage", "junk.ko");
  REQUIRE_FALSE(junk.ok());
  CHECK_THAT(junk.error().message(), Catch::Contains("'junk.ko'"));
}
