// Owners, modes, links, devices and xattrs survive into the ext4 image
// exactly, from a directory and from a tarball, whether the build runs as
// root or as an ordinary user (then via `setpriv` re-running this binary's
// hidden "unprivileged ext4 build" case).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "reconciler/disk/ext4_builder.h"
#include "reconciler/image/image_source.h"
#include "reconciler/os/fs.h"
#include "tests/integration/image/exactness_fixture.h"
#include "tests/support/test_env.h"

using namespace banger;

namespace {

// Builds `out` from a dir or tar source with a staging tree under `scratch`.
Status BuildFrom(const std::string& kind, const std::string& input, const std::string& scratch,
                 const std::string& out) {
  std::string stage = JoinPath(scratch, "stage");
  BANGER_RETURN_IF_ERROR(MakeDirs(stage));
  image::RootfsTree tree(stage);
  if (kind == "dir") {
    BANGER_RETURN_IF_ERROR(image::CopyTreeFromDir(input, tree));
  } else {
    BANGER_RETURN_IF_ERROR(image::ExtractRootfsTarball(input, tree));
  }
  BANGER_ASSIGN_OR_RETURN(disk::Ext4Content content, disk::MeasureTree(tree));
  BANGER_ASSIGN_OR_RETURN(uint64_t size, disk::ChooseImageSize(content, std::nullopt, "test image"));
  return disk::BuildExt4(tree, size, out, SystemRunner());
}

const char* Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

// Runs as root or, for the unprivileged variants, as the test user.
void BuildAndCheck(const std::string& kind, bool unprivileged) {
  TempDir scratch = testing::ScratchDir("banger-exact-");
  REQUIRE(chmod(scratch.path().c_str(), 0755) == 0);
  std::string input;
  if (kind == "dir") {
    input = JoinPath(scratch.path(), "src");
    REQUIRE(MakeDirs(input).ok());
    testing::MakeExactnessDir(input);
  } else {
    input = JoinPath(scratch.path(), "rootfs.tar");
    testing::MakeExactnessTarball(input);
    REQUIRE(chmod(input.c_str(), 0644) == 0);
  }
  std::string work = JoinPath(scratch.path(), "work");
  REQUIRE(MakeDirs(work, 0755).ok());
  std::string out = JoinPath(work, "rootfs.ext4");
  if (unprivileged) {
    testing::GiveToTestUser(work);
    int rc = testing::RunTestCaseUnprivileged(
        "unprivileged ext4 build",
        {"TMPDIR=" + work, "BANGER_CHILD_SOURCE=" + kind, "BANGER_CHILD_INPUT=" + input,
         "BANGER_CHILD_SCRATCH=" + work, "BANGER_CHILD_OUTPUT=" + out});
    REQUIRE(rc == 0);
    struct stat st;
    REQUIRE(stat(out.c_str(), &st) == 0);
    CHECK(st.st_uid == testing::UnprivilegedTestUser().uid);
  } else {
    Status st = BuildFrom(kind, input, work, out);
    INFO((st.ok() ? "" : st.error().message()));
    REQUIRE(st.ok());
  }
  testing::CheckExactnessImage(out);
}

}  // namespace

TEST_CASE("unprivileged ext4 build", "[.]") {
  // The child half of the unprivileged tests; skipped in normal runs.
  REQUIRE(getuid() != 0);
  Status st = BuildFrom(Env("BANGER_CHILD_SOURCE"), Env("BANGER_CHILD_INPUT"),
                        Env("BANGER_CHILD_SCRATCH"), Env("BANGER_CHILD_OUTPUT"));
  INFO((st.ok() ? "" : st.error().message()));
  REQUIRE(st.ok());
}

TEST_CASE("tar source: exact metadata when built by the running user") {
  // As root this is the privileged case; as an ordinary user it is the
  // unprivileged one.
  BuildAndCheck("tar", false);
}

TEST_CASE("tar source: exact metadata when built unprivileged") {
  if (getuid() != 0) {
    WARN("not root: cannot switch to the test user; the root-run case covers this user");
    return;
  }
  BuildAndCheck("tar", true);
}

TEST_CASE("dir source: exact metadata when built as root") {
  if (getuid() != 0) {
    WARN("not root: cannot create the root-owned source tree");
    return;
  }
  BuildAndCheck("dir", false);
}

TEST_CASE("dir source: exact metadata when built unprivileged") {
  if (getuid() != 0) {
    WARN("not root: cannot create the root-owned source tree");
    return;
  }
  BuildAndCheck("dir", true);
}

TEST_CASE("an image of exactly the minimum size holds the content; one block less is refused") {
  TempDir scratch = testing::ScratchDir("banger-min-");
  std::string stage = JoinPath(scratch.path(), "stage");
  // Many small files and a large one: inode- and block-heavy at once.
  // Plain writes: the fsync of testing::WriteFile would dominate the run.
  REQUIRE(MakeDirs(stage + "/many").ok());
  for (int i = 0; i < 3000; ++i) {
    std::ofstream(stage + "/many/f" + std::to_string(i)) << "x";
  }
  std::ofstream(stage + "/big") << std::string(40u << 20, 'b');
  image::RootfsTree tree(stage);
  auto content = disk::MeasureTree(tree);
  REQUIRE(content.ok());
  uint64_t min = disk::MinimumImageBytes(*content);
  std::string out = JoinPath(scratch.path(), "min.ext4");
  Status st = disk::BuildExt4(tree, min, out, SystemRunner());
  INFO((st.ok() ? "" : st.error().message()));
  REQUIRE(st.ok());
  auto too_small = disk::ChooseImageSize(*content, min - 4096, "image 'tiny'");
  REQUIRE_FALSE(too_small.ok());
  CHECK(too_small.error().message().rfind("image 'tiny': content needs at least", 0) == 0);
  Status refused = disk::BuildExt4(tree, min - 4096, JoinPath(scratch.path(), "no.ext4"), SystemRunner());
  CHECK_FALSE(refused.ok());
  CHECK_FALSE(PathExists(JoinPath(scratch.path(), "no.ext4")));
}
