#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "reconciler/kernel/kernel_bundle.h"
#include "reconciler/os/fs.h"
#include "tests/fixtures/kernel/kernel_fixtures.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::kernel;
using testing::TarMember;

namespace {

// Extracts a bundle made of `members` into a fresh "dest" inside a scratch
// dir that also holds a sentinel outside the destination.
struct Attempt {
  TempDir dir = testing::ScratchDir();
  std::string dest;
  Result<KernelBundle> result = Internal("not run");

  explicit Attempt(const std::vector<TarMember>& members) {
    const std::string archive = dir.path() + "/bundle.tar.zst";
    testing::WriteTarZst(archive, members);
    dest = dir.path() + "/dest";
    REQUIRE(MakeDirs(dest).ok());
    result = ExtractKernelBundle(archive, dest);
  }
  // Names directly in the scratch dir: nothing but the archive and dest.
  std::vector<std::string> Outside() { return *ListDir(dir.path()); }
};

}  // namespace

TEST_CASE("a good bundle extracts with its optional parts", "[bundle]") {
  Attempt a({{"vmlinuz", 'f', "KERNEL"},
             {"initrd.img", 'f', "INITRD"},
             {"modules", 'd', ""},
             {"modules/6.1.0/kernel", 'd', ""},
             {"modules/6.1.0/kernel/virtio.ko", 'f', "ko"},
             {"modules/6.1.0/build", 'l', "kernel"},
             {"modules/latest", 'l', "6.1.0/kernel/virtio.ko"}});
  INFO((a.result.ok() ? "" : a.result.error().message()));
  REQUIRE(a.result.ok());
  CHECK(a.result->kernel == a.dest + "/vmlinuz");
  CHECK(a.result->initrd == a.dest + "/initrd.img");
  CHECK(a.result->modules_dir == a.dest + "/modules");
  CHECK(a.result->vmlinux.empty());
  CHECK(*ReadFile(a.dest + "/modules/latest") == "ko");
}

TEST_CASE("bzImage is accepted as the kernel name", "[bundle]") {
  Attempt a({{"./bzImage", 'f', "K"}});
  REQUIRE(a.result.ok());
  CHECK(a.result->kernel == a.dest + "/bzImage");
  CHECK(a.result->initrd.empty());
}

TEST_CASE("hostile bundles are rejected without touching anything outside", "[bundle]") {
  struct Case {
    const char* what;
    std::vector<TarMember> members;
    const char* message;
  };
  std::vector<Case> cases = {
      {"dot-dot path", {{"vmlinuz", 'f', "K"}, {"../escaped", 'f', "x"}}, "contains '..'"},
      {"nested dot-dot", {{"modules/../../escaped", 'f', "x"}}, "contains '..'"},
      {"absolute path", {{"/tmp/escaped-banger", 'f', "x"}}, "absolute"},
      {"kernel links to a host file", {{"vmlinuz", 'l', "/etc/passwd"}},
       "'vmlinuz' is a symlink; boot files must be regular files"},
      {"initrd links to a host file", {{"vmlinuz", 'f', "K"}, {"initrd.img", 'l', "/etc/shadow"}},
       "'initrd.img' is a symlink"},
      {"modules links to a host dir", {{"vmlinuz", 'f', "K"}, {"modules", 'l', "/lib/modules"}},
       "'modules' is not a directory"},
      {"write through an absolute link",
       {{"vmlinuz", 'f', "K"}, {"etc", 'l', "/etc"}, {"etc/banger-escaped", 'f', "x"}},
       "passes through a symlink"},
      {"empty link target", {{"vmlinuz", 'f', "K"}, {"nothing", 'l', ""}}, "has no target"},
      {"write through symlink",
       {{"inside", 'd', ""}, {"link", 'l', "inside"}, {"link/vmlinuz", 'f', "x"}},
       "passes through a symlink"},
      {"hard link", {{"vmlinuz", 'f', "K"}, {"copy", 'h', "vmlinuz"}}, "hard link"},
      {"device node", {{"vmlinuz", 'f', "K"}, {"null", 'c', ""}}, "not a file, directory or symlink"},
      {"duplicate", {{"vmlinuz", 'f', "K"}, {"vmlinuz", 'f', "L"}}, "duplicate entry"},
      {"no kernel", {{"initrd.img", 'f', "I"}}, "no regular file 'vmlinuz'"},
      {"kernel is a symlink", {{"real", 'f', "K"}, {"vmlinuz", 'l', "real"}},
       "'vmlinuz' is a symlink"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Attempt a(c.members);
    REQUIRE_FALSE(a.result.ok());
    CHECK(a.result.error().code() == Code::kCorruption);
    CHECK_THAT(a.result.error().message(), Catch::Contains(c.message));
    CHECK_THAT(a.result.error().message(), Catch::Contains("bundle.tar.zst"));
    CHECK(a.Outside() == std::vector<std::string>{"bundle.tar.zst", "dest"});
  }
  CHECK_FALSE(PathExists("/tmp/escaped-banger"));
  CHECK_FALSE(PathExists("/etc/banger-escaped"));
}

TEST_CASE("links of a real kernel tree are kept as links, whatever they point at", "[bundle]") {
  Attempt a({{"vmlinuz", 'f', "K"},
             {"modules/6.1.0-x/kernel/virtio.ko", 'f', "ko"},
             {"modules/6.1.0-x/build", 'l', "/usr/src/linux-headers-6.1.0-x"},
             {"modules/6.1.0-x/source", 'l', "../../../../usr/src/linux-source"},
             {"modules/6.1.0-x/shadow", 'l', "/etc/shadow"},
             {"modules/current", 'l', "6.1.0-x"}});
  INFO((a.result.ok() ? "" : a.result.error().message()));
  REQUIRE(a.result.ok());
  const std::string tree = a.dest + "/modules/6.1.0-x";
  CHECK(testing::LinkTarget(tree + "/build") == "/usr/src/linux-headers-6.1.0-x");
  CHECK(testing::LinkTarget(tree + "/source") == "../../../../usr/src/linux-source");
  CHECK(testing::LinkTarget(tree + "/shadow") == "/etc/shadow");
  CHECK(testing::LinkTarget(a.dest + "/modules/current") == "6.1.0-x");
  CHECK(a.Outside() == std::vector<std::string>{"bundle.tar.zst", "dest"});
}

TEST_CASE("a truncated or non-archive bundle fails", "[bundle]") {
  auto dir = testing::ScratchDir();
  testing::WriteTarZst(dir.path() + "/full.tar.zst",
                       {{"vmlinuz", 'f', std::string(200000, 'k')}});
  std::string data = *ReadFile(dir.path() + "/full.tar.zst");
  testing::WriteFile(dir.path(), "cut.tar.zst", data.substr(0, data.size() / 2));
  testing::WriteFile(dir.path(), "junk.tar.zst", "this is not an archive");
  for (const char* name : {"cut.tar.zst", "junk.tar.zst"}) {
    INFO(name);
    std::string dest = dir.path() + "/dest-" + name;
    REQUIRE(MakeDirs(dest).ok());
    auto r = ExtractKernelBundle(dir.path() + "/" + name, dest);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message(), Catch::Contains(name));
  }
}
