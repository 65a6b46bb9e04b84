#include <catch2/catch.hpp>

#include "specs/features.h"
#include "specs/loader.h"
#include "tests/unit/specs/spec_test_util.h"

using namespace banger::specs;
using Lines = std::vector<std::string>;

namespace {
// Restores the build's availability table however the test ends.
struct ResetAvailability {
  ~ResetAvailability() { ResetSourceAvailabilityForTesting(); }
};
}  // namespace

TEST_CASE("Every source is available in this build") {
  for (auto s : {ImageSource::kOci, ImageSource::kDir, ImageSource::kTar,
                 ImageSource::kDebootstrap})
    CHECK(ImageSourceAvailable(s));
  for (auto s : {KernelSource::kDeb, KernelSource::kPath, KernelSource::kUrl,
                 KernelSource::kCatalog})
    CHECK(KernelSourceAvailable(s));
}

TEST_CASE("Declaring a source this build lacks is a validation error") {
  ResetAvailability reset;
  SetSourceAvailableForTesting(ImageSource::kOci, false);
  SetSourceAvailableForTesting(KernelSource::kCatalog, false);
  const char* spec = R"(
[[image]]
name = "x"
oci = "debian:bookworm"

[[image]]
name = "y"
dir = "rootfs"

[[kernel]]
name = "k"
catalog = "debian-6.1"
)";
  CHECK(testing::Errors(spec) ==
        Lines{"t.toml:4:7: image.x.oci: OCI images are not available in this build",
              "t.toml:12:11: kernel.k.catalog: catalog kernels are not available in this build"});
  ResetSourceAvailabilityForTesting();
  CHECK(testing::Errors(spec).empty());
}
