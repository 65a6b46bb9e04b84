// The cached debootstrap tree is unpacked under the same limits as any
// other tarball (settings image_max_size, image_max_files), with errors
// that name the setting to raise. No debootstrap run is needed: the cache
// tarball is written from a small staged tree.
#include <catch2/catch.hpp>

#include "reconciler/image/debootstrap_source.h"
#include "reconciler/image/image_source.h"
#include "reconciler/image/tree_archive.h"
#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::image;

namespace {

// Any command means the cache was not used.
class NoCommands : public CommandRunner {
 public:
  Result<ExecResult> Run(const ExecRequest& r) override {
    return Error(Code::kInternal, "unexpected command " + DescribeArgv(r.argv));
  }
};

specs::ImageSpec Recipe() {
  specs::ImageSpec spec;
  spec.name = "deb";
  spec.source = specs::ImageSource::kDebootstrap;
  spec.suite = "bookworm";
  spec.include = {"iproute2"};
  return spec;
}

struct CachedTree {
  TempDir dir = testing::ScratchDir();
  std::string cache = dir.path() + "/cache";
  NoCommands runner;

  // 10 files of 1000 bytes under etc/ (12 entries with etc/ and the root).
  CachedTree() {
    const std::string staged = dir.path() + "/staged";
    for (int i = 0; i < 10; ++i) {
      testing::WriteFile(staged, "etc/file" + std::to_string(i), std::string(1000, 'x'));
    }
    RootfsTree tree(staged);
    DebootstrapSource source(cache, runner);
    REQUIRE(MakeDirs(Dirname(source.CachePath(Recipe()))).ok());
    REQUIRE(WriteTreeTarball(tree, source.CachePath(Recipe())).ok());
  }

  Status Populate(const ExtractLimits& limits, const std::string& name) {
    const std::string root = dir.path() + "/" + name;
    REQUIRE(MakeDirs(root).ok());
    RootfsTree tree(root);
    auto registry = BuiltinImageSources(SourceOptions{cache, &runner, limits});
    auto source = registry.Find(Recipe());
    REQUIRE(source.ok());
    apply::NullProgress progress;
    return (*source)->Populate(Recipe(), tree, progress);
  }
};

}  // namespace

TEST_CASE("the cached debootstrap tree unpacks within the limits", "[debootstrap]") {
  CachedTree c;
  Status st = c.Populate(ExtractLimits{.max_total_bytes = 1 << 20, .max_entries = 100}, "ok");
  INFO((st.ok() ? "" : st.error().message()));
  REQUIRE(st.ok());
  CHECK(*ReadFile(c.dir.path() + "/ok/etc/file9") == std::string(1000, 'x'));
}

TEST_CASE("the cached debootstrap tree obeys image_max_files", "[debootstrap]") {
  CachedTree c;
  Status st = c.Populate(ExtractLimits{.max_total_bytes = 1 << 20, .max_entries = 5}, "files");
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error().message(), Catch::Contains("image 'deb'"));
  CHECK_THAT(st.error().message(), Catch::Contains("exceeds image_max_files (5)"));
  CHECK_THAT(st.error().message(), Catch::Contains("raise image_max_files in [settings]"));
}

TEST_CASE("the cached debootstrap tree obeys image_max_size", "[debootstrap]") {
  CachedTree c;
  Status st = c.Populate(ExtractLimits{.max_total_bytes = 4000, .max_entries = 100}, "size");
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error().message(), Catch::Contains("image 'deb'"));
  CHECK_THAT(st.error().message(), Catch::Contains("exceeds image_max_size"));
  CHECK_THAT(st.error().message(), Catch::Contains("raise image_max_size in [settings]"));
}
