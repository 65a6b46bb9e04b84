// ParseSpecFiles: several files, directories, duplicates across files.
#include <catch2/catch.hpp>

#include "specs/loader.h"
#include "tests/support/test_env.h"
#include "tests/unit/specs/spec_test_util.h"

using namespace banger;
using namespace banger::specs;
using banger::testing::ScratchDir;
using banger::testing::WriteFile;
using Lines = std::vector<std::string>;

namespace {

const char* kArtifacts = R"([[kernel]]
name = "k"
deb = "linux-image-amd64"

[[image]]
name = "base"
tar = "rootfs.tar"
)";

const char* kVms = R"([[vm]]
name = "web"
image = "base"
kernel = "k"
)";

}  // namespace

TEST_CASE("Files together form one state; references may cross files") {
  TempDir dir = ScratchDir();
  std::string a = WriteFile(dir.path(), "sub/artifacts.toml", kArtifacts);
  std::string b = WriteFile(dir.path(), "vms.toml", kVms);
  ParseOutcome out = ParseSpecFiles({b, a});
  CheckReferences(&out, KnownObjects{});
  CHECK(specs::testing::Lines(out.errors).empty());
  CHECK(out.state.files == std::vector<std::string>{b, a});
  CHECK(out.shown_files == std::vector<std::string>{b, a});
  REQUIRE(out.state.images.size() == 1);
  // Relative paths resolve against the directory of the file they are in.
  CHECK(out.state.images[0].tar == dir.path() + "/sub/rootfs.tar");
  CHECK(out.state.vms.at(0).where.ToString() == b + ":1:1");
}

TEST_CASE("A directory contributes its .toml files in name order") {
  TempDir dir = ScratchDir();
  WriteFile(dir.path(), "fleet/20-vms.toml", kVms);
  WriteFile(dir.path(), "fleet/10-artifacts.toml", kArtifacts);
  WriteFile(dir.path(), "fleet/notes.txt", "not a spec");
  WriteFile(dir.path(), "fleet/nested.toml/x.toml", "not read: directories are not walked");
  std::string fleet = dir.path() + "/fleet";
  ParseOutcome out = ParseSpecFiles({fleet});
  CHECK(specs::testing::Lines(out.errors).empty());
  CHECK(out.state.files ==
        std::vector<std::string>{fleet + "/10-artifacts.toml", fleet + "/20-vms.toml"});
}

TEST_CASE("A file named twice is read once") {
  TempDir dir = ScratchDir();
  std::string a = WriteFile(dir.path(), "all.toml", std::string(kArtifacts) + kVms);
  ParseOutcome out = ParseSpecFiles({a, dir.path(), dir.path() + "/./all.toml"});
  CHECK(specs::testing::Lines(out.errors).empty());
  CHECK(out.state.files.size() == 1);
  CHECK(out.state.vms.size() == 1);
}

TEST_CASE("Duplicates across files report both locations") {
  TempDir dir = ScratchDir();
  std::string a = WriteFile(dir.path(), "a.toml", std::string("[settings]\n") + kArtifacts);
  std::string b = WriteFile(dir.path(), "b.toml",
                            std::string("[settings]\nbridge = \"bg1\"\n\n") + kArtifacts + kVms);
  ParseOutcome out = ParseSpecFiles({a, b});
  CHECK(specs::testing::Lines(out.errors) ==
        Lines{
            b + ":1:1: settings: more than one [settings] table; the first is at " + a + ":1:1",
            b + ":4:1: kernel.k: duplicate kernel 'k'; the first is at " + a + ":2:1",
            b + ":8:1: image.base: duplicate image 'base'; the first is at " + a + ":6:1",
        });
  // The first declaration wins in the state.
  CHECK(out.state.settings.bridge == "bg0");
  CHECK(out.state.kernels.size() == 1);
}

TEST_CASE("Duplicates within one file are reported too") {
  CHECK(specs::testing::Errors(std::string(kVms) + "\n" + kVms) ==
        Lines{"t.toml:3:1: vm.web.image: unknown image 'base'",
              "t.toml:4:1: vm.web.kernel: unknown kernel 'k'",
              "t.toml:6:1: vm.web: duplicate vm 'web'; the first is at t.toml:1:1"});
}

TEST_CASE("Unreadable inputs are errors, and parsing goes on") {
  TempDir dir = ScratchDir();
  std::string good = WriteFile(dir.path(), "good.toml", kArtifacts);
  std::string bad = WriteFile(dir.path(), "bad.toml", "[[vm]\n");
  std::string empty_dir = dir.path() + "/empty";
  WriteFile(dir.path(), "empty/readme.md", "no specs here");
  std::string missing = dir.path() + "/missing.toml";
  ParseOutcome out = ParseSpecFiles({missing, empty_dir, bad, good});
  Lines errors = specs::testing::Lines(out.errors);
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].rfind(missing + ": ", 0) == 0);
  CHECK(errors[0].find("No such file or directory") != std::string::npos);
  CHECK(errors[1] == empty_dir + ": directory '" + empty_dir + "' holds no .toml files");
  CHECK(errors[2].rfind(bad + ":1:", 0) == 0);
  CHECK(errors[2].find("TOML syntax error") != std::string::npos);
  // The good file still contributed.
  CHECK(out.state.kernels.size() == 1);

  CHECK(specs::testing::Lines(ParseSpecFiles({}).errors) == Lines{"no spec files given"});
}
