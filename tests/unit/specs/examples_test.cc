// The bundled examples are part of the documentation: they must load cleanly.
#include <catch2/catch.hpp>

#include "specs/loader.h"
#include "tests/support/test_env.h"
#include "tests/unit/specs/spec_test_util.h"

using namespace banger;
using namespace banger::specs;

namespace {

ParseOutcome LoadExample(const std::string& relative) {
  ParseOutcome out = ParseSpecFiles({banger::testing::SourceDir() + "/examples/" + relative});
  CheckReferences(&out, KnownObjects{});
  INFO(relative);
  CHECK(specs::testing::Lines(out.errors).empty());
  CHECK(specs::testing::Lines(out.warnings).empty());
  return out;
}

}  // namespace

TEST_CASE("Every example loads without errors or warnings") {
  Result<std::vector<std::string>> names = ListDir(banger::testing::SourceDir() + "/examples");
  REQUIRE(names.ok());
  int loaded = 0;
  for (const std::string& name : *names) {
    // Specs are *.toml files and directories of them; scripts sit beside.
    const bool toml = name.size() > 5 && name.compare(name.size() - 5, 5, ".toml") == 0;
    if (!toml && !IsDirectory(banger::testing::SourceDir() + "/examples/" + name)) continue;
    LoadExample(name);
    ++loaded;
  }
  CHECK(loaded >= 3);
}

TEST_CASE("lab.toml declares the documented lab") {
  ParseOutcome out = LoadExample("lab.toml");
  const DesiredState& s = out.state;
  CHECK(s.has_settings);
  CHECK(s.settings.bridge == "bg0");
  CHECK(s.settings.subnet == "172.30.0.0/24");
  REQUIRE(s.kernels.size() == 1);
  CHECK(s.kernels[0].source == KernelSource::kDeb);
  CHECK(s.kernels[0].deb == "linux-image-cloud-amd64");
  REQUIRE(s.images.size() == 1);
  CHECK(s.images[0].source == ImageSource::kDebootstrap);
  CHECK(s.images[0].suite == "bookworm");
  CHECK(s.images[0].include ==
        std::vector<std::string>{"openssh-server", "iproute2", "ca-certificates", "git"});
  REQUIRE(s.file_syncs.size() == 1);
  CHECK(s.file_syncs[0].host == "~/.config/banger-demo/hello.txt");
  CHECK(s.file_syncs[0].guest == "/root/hello.txt");
  CHECK(s.file_syncs[0].mode == 0644u);
  REQUIRE(s.vms.size() == 2);
  CHECK(s.vms[0].name == "web");
  CHECK(s.vms[1].name == "worker");
  for (const VmSpec& vm : s.vms) {
    CHECK(vm.vcpus == 2);
    CHECK(vm.memory == 512 * kMiB);
    CHECK(vm.disk == 2 * kGiB);
    CHECK_FALSE(vm.labels.empty());
  }
}

TEST_CASE("The fleet directory only makes sense as a whole") {
  ParseOutcome out = LoadExample("fleet");
  CHECK(out.state.files.size() == 2);
  CHECK(out.state.vms.size() == 3);
  // Alone, the VM file refers to artifacts it does not declare.
  ParseOutcome vms = ParseSpecFiles({banger::testing::SourceDir() + "/examples/fleet/vms.toml"});
  REQUIRE(vms.ok());
  CheckReferences(&vms, KnownObjects{});
  CHECK_FALSE(vms.ok());
}
