// [[snapshot]] and vm.from_snapshot: what a clone takes from its source VM,
// chains of clones, and the errors (the bad-spec corpus has more:
// tests/fixtures/bad_specs/snapshots.toml).
#include <catch2/catch.hpp>

#include "specs/loader.h"
#include "tests/unit/specs/spec_test_util.h"

using namespace banger::specs;
using banger::specs::testing::Errors;
using banger::specs::testing::kBase;
using Lines = std::vector<std::string>;

TEST_CASE("A clone takes image, kernel, vcpus, memory and disk from its source VM") {
  ParseOutcome out = ParseSpecText(std::string(kBase) + R"(
[[vm]]
name = "builder"
image = "base"
kernel = "k"
vcpus = 1
memory = "512M"
disk = "1G"
labels = { role = "builder" }

[[snapshot]]
name = "warm"
vm = "builder"

[[vm]]
name = "c1"
from_snapshot = "warm"
nat = true
labels = { role = "clone" }

[[vm]]
name = "c2"
from_snapshot = "warm"
memory = "512M"
image = "base"
)", "t.toml", "/");
  CheckReferences(&out, KnownObjects{});
  REQUIRE(banger::specs::testing::Lines(out.errors) == Lines{});
  REQUIRE(out.state.snapshots.size() == 1);
  CHECK(out.state.snapshots[0].name == "warm");
  CHECK(out.state.snapshots[0].vm == "builder");
  CHECK(out.state.snapshots[0].where.ToString() == "t.toml:19:1");
  for (const char* name : {"c1", "c2"}) {
    const VmSpec* clone = out.state.FindVm(name);
    REQUIRE(clone);
    CHECK(clone->from_snapshot == "warm");
    CHECK(clone->image == "base");
    CHECK(clone->kernel == "k");
    CHECK(clone->vcpus == 1);
    CHECK(clone->memory == 512 * kMiB);
    CHECK(clone->disk == kGiB);
  }
  // What is per clone stays the clone's own.
  CHECK(out.state.FindVm("c1")->nat);
  CHECK(out.state.FindVm("c1")->labels.at("role") == "clone");
  CHECK(out.state.FindVm("builder")->from_snapshot.empty());
}

TEST_CASE("A clone of a clone resolves through the chain, declared in any order") {
  ParseOutcome out = ParseSpecText(std::string(kBase) + R"(
[[vm]]
name = "grandchild"
from_snapshot = "of-child"

[[snapshot]]
name = "of-child"
vm = "child"

[[vm]]
name = "child"
from_snapshot = "of-root"

[[snapshot]]
name = "of-root"
vm = "root"

[[vm]]
name = "root"
image = "base"
kernel = "k"
memory = "768M"
)", "t.toml", "/");
  CheckReferences(&out, KnownObjects{});
  REQUIRE(banger::specs::testing::Lines(out.errors) == Lines{});
  CHECK(out.state.FindVm("grandchild")->memory == 768 * kMiB);
  CHECK(out.state.FindVm("grandchild")->image == "base");
}

TEST_CASE("A clone reports a source VM's bad references once, at the source") {
  CHECK(Errors(std::string(kBase) + R"(
[[vm]]
name = "builder"
image = "nope"
kernel = "k"

[[snapshot]]
name = "warm"
vm = "builder"

[[vm]]
name = "clone"
from_snapshot = "warm"
vcpus = 4
)") == Lines{
      "t.toml:12:1: vm.builder.image: unknown image 'nope'",
      "t.toml:22:1: vm.clone.vcpus: vcpus 4 differs from vm.builder's 2; a clone restores "
      "vm.builder's saved kernel, memory, CPUs and disks (snapshot 'warm'), so leave the key "
      "out or give the same value",
  });
}

TEST_CASE("Snapshot names are checked like other names, and duplicates are refused") {
  CHECK(Errors(std::string(kBase) + R"(
[[vm]]
name = "web"
image = "base"
kernel = "k"

[[snapshot]]
name = "Warm"
vm = "web"

[[snapshot]]
name = "a"
vm = "web"

[[snapshot]]
name = "a"
vm = "web"

[[snapshot]]
name = "b"
)") == Lines{
      "t.toml:16:8: snapshot[0].name: invalid name 'Warm': use 1 to 32 lowercase letters, "
      "digits and '-', starting with a letter or digit",
      "t.toml:23:1: snapshot.a: duplicate snapshot 'a'; the first is at t.toml:19:1",
      "t.toml:27:1: snapshot.b: missing required key 'vm'",
  });
}
