// The hostile layer corpus in tests/fixtures/oci/hostile: every case is
// either refused with an error naming the entry or contained inside the
// root, and nothing outside the root (a sentinel file, its directory, the
// layers themselves) is written, removed, replaced or re-permissioned
// (hostile_case.cc). The cases are tabled by class: EscapeCases() below,
// LinkAndWhiteoutCases() and ArchiveFormatCases() in their own files.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <set>

#include "reconciler/image/image_source.h"
#include "reconciler/image/layer_extract.h"
#include "reconciler/os/fs.h"
#include "tests/integration/oci/hostile_case.h"
#include "tests/integration/oci/oci_fixtures.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::testing;
using image::ExtractLimits;
using image::ExtractOptions;
using image::ExtractStats;
using image::RootfsTree;

namespace {

// Runs `generator` and wraps its layers as a pull result, as if pulled.
oci::PullResult GeneratedPull(const std::string& generator, const std::string& layers_dir) {
  REQUIRE(MakeDirs(layers_dir).ok());
  RunFixture(generator, {layers_dir, "/nonexistent"});
  oci::PullResult r;
  r.reference = {"127.0.0.1:5000", "test/limits", "v1", ""};
  r.layer_paths = LayerFiles(layers_dir);
  for (size_t i = 0; i < r.layer_paths.size(); ++i)
    r.manifest.layers.push_back({"application/vnd.oci.image.layer.v1.tar+gzip",
                                 "sha256:" + std::string(64, static_cast<char>('a' + i)), 0,
                                 std::nullopt});
  return r;
}

// Flattens `generator`'s layers with `limits`; returns the error text.
std::string FlattenError(const std::string& generator, const ExtractLimits& limits) {
  auto scratch = ScratchDir("banger-oci-limits-");
  oci::PullResult r = GeneratedPull(generator, JoinPath(scratch.path(), "layers"));
  std::string root = JoinPath(scratch.path(), "root");
  REQUIRE(MakeDirs(root).ok());
  RootfsTree tree(root);
  auto stats = oci::Flatten(r, tree, limits);
  REQUIRE_FALSE(stats.ok());
  return stats.error().message();
}

}  // namespace

namespace banger::testing {

std::vector<HostileCase> EscapeCases() {
  return {
      {"absolute_path.py", Outcome::kRefused, "absolute path", nullptr},
      {"dotdot.py", Outcome::kRefused, "'..'", nullptr},
      {"symlink_escape_write.py", Outcome::kContained, "",
       [](const std::string& root, const std::string& sentinel, const RootfsTree& tree,
          const ExtractStats&) {
         // The write followed "esc" as if the root were "/".
         CHECK(Slurp(Inside(root, sentinel)) == "pwned\n");
         CHECK(tree.Find(sentinel.substr(1)) != nullptr);
       }},
      {"symlink_escape_across_layers.py", Outcome::kContained, "",
       [](const std::string& root, const std::string& sentinel, const RootfsTree&,
          const ExtractStats&) { CHECK(Slurp(Inside(root, sentinel)) == "pwned\n"); }},
      {"symlink_to_root_write.py", Outcome::kContained, "",
       [](const std::string& root, const std::string& sentinel, const RootfsTree&,
          const ExtractStats&) { CHECK(Slurp(Inside(root, sentinel)) == "pwned\n"); }},
      {"symlink_to_root_dot.py", Outcome::kContained, "",
       [](const std::string& root, const std::string& sentinel, const RootfsTree&,
          const ExtractStats&) { CHECK(Slurp(Inside(root, sentinel)) == "pwned\n"); }},
      {"symlink_replaced_by_file.py", Outcome::kContained, "",
       [](const std::string& root, const std::string&, const RootfsTree& tree,
          const ExtractStats&) {
         struct stat s;
         REQUIRE(lstat(JoinPath(root, "f").c_str(), &s) == 0);
         CHECK(S_ISREG(s.st_mode));
         CHECK(Slurp(JoinPath(root, "f")) == "pwned\n");
         CHECK(S_ISREG(tree.Find("f")->mode));
       }},
      {"symlink_loop.py", Outcome::kRefused, "too many symlinks", nullptr},
      {"hardlink_dotdot.py", Outcome::kRefused, "'..'", nullptr},
      {"hardlink_through_symlink.py", Outcome::kRefused, "hardlink target", nullptr},
      {"whiteout_escape.py", Outcome::kRefused, "'..'", nullptr},
      {"whiteout_through_symlink.py", Outcome::kRefused, "passes through symlink 'link'",
       nullptr},
      {"opaque_through_symlink.py", Outcome::kRefused, "passes through symlink 'link'",
       nullptr},
      {"device_nodes.py", Outcome::kContained, "",
       [](const std::string& root, const std::string&, const RootfsTree& tree,
          const ExtractStats& stats) {
         CHECK(stats.skipped_devices == 2);
         CHECK_FALSE(PathExists(JoinPath(root, "dev/mem")));
         CHECK_FALSE(PathExists(JoinPath(root, "dev/sda")));
         CHECK(tree.Find("dev/mem") == nullptr);
         CHECK(Slurp(JoinPath(root, "dev/regular")) == "ok\n");
       }},
      {"huge_size.py", Outcome::kRefused, "exceeds image_max_size (1M)",
       [](const std::string& root, const std::string&, const RootfsTree&, const ExtractStats&) {
         CHECK_FALSE(PathExists(JoinPath(root, "huge")));
       }},
      {"bomb_bytes.py", Outcome::kRefused, "exceeds image_max_size (1M)", nullptr},
      {"bomb_entries.py", Outcome::kRefused, "exceeds image_max_files (1000)", nullptr},
  };
}

}  // namespace banger::testing

TEST_CASE("hostile layers are refused or contained") {
  if (geteuid() != 0)
    WARN("not root: an escaping chown or chmod would fail anyway; run as root to check it");
  SECTION("paths and links leaving the root") {
    for (const auto& c : EscapeCases()) RunHostileCase(c);
  }
  SECTION("links and whiteouts") {
    for (const auto& c : LinkAndWhiteoutCases()) RunHostileCase(c);
  }
  SECTION("archive formats, sizes and bombs") {
    for (const auto& c : ArchiveFormatCases()) RunHostileCase(c);
  }
}

TEST_CASE("every generator in the hostile corpus is exercised") {
  // A generator added without a case above would silently go untested.
  auto names = ListDir(JoinPath(OciFixtureDir(), "hostile"));
  REQUIRE(names.ok());
  std::set<std::string> generators;
  for (const auto& n : *names)
    if (n.ends_with(".py") && n != "common.py") generators.insert(n);
  std::set<std::string> tabled;
  for (const auto& table : {EscapeCases(), LinkAndWhiteoutCases(), ArchiveFormatCases()})
    for (const auto& c : table) CHECK(tabled.insert(c.generator).second);  // no duplicates
  CHECK(tabled == generators);
  CHECK(generators.size() >= 40);
}

TEST_CASE("device nodes are recorded as metadata when asked to") {
  auto scratch = ScratchDir("banger-oci-devices-");
  std::string layers_dir = JoinPath(scratch.path(), "layers");
  REQUIRE(MakeDirs(layers_dir).ok());
  RunFixture("hostile/device_nodes.py", {layers_dir, "/nonexistent"});
  std::string root = JoinPath(scratch.path(), "root");
  REQUIRE(MakeDirs(root).ok());
  RootfsTree tree(root);
  ExtractOptions opts;
  opts.keep_device_nodes = true;
  ExtractStats stats;
  REQUIRE(ApplyLayers(LayerFiles(layers_dir), tree, opts, stats).ok());
  CHECK(stats.skipped_devices == 0);
  const auto* mem = tree.Find("dev/mem");
  REQUIRE(mem != nullptr);
  CHECK(S_ISCHR(mem->mode));
  CHECK(mem->rdev == makedev(1, 1));
  CHECK(S_ISBLK(tree.Find("dev/sda")->mode));
  // On disk only an inert placeholder exists.
  struct stat s;
  REQUIRE(lstat(JoinPath(root, "dev/mem").c_str(), &s) == 0);
  CHECK(S_ISREG(s.st_mode));
}

TEST_CASE("Flatten stops at the image limits and names the setting to raise") {
  const ExtractLimits small{.max_total_bytes = 1 << 20, .max_entries = 1000};
  std::string bytes = FlattenError("hostile/bomb_bytes.py", small);
  INFO(bytes);
  CHECK_THAT(bytes, Catch::Contains("flatten '127.0.0.1:5000/test/limits:v1' layer 1/1"));
  CHECK_THAT(bytes, Catch::Contains(
                        "entry 'zeros': the unpacked size (67108864 bytes for this file, 0 "
                        "before it) exceeds image_max_size (1M); raise image_max_size in "
                        "[settings] to unpack larger images"));
  std::string entries = FlattenError("hostile/bomb_entries.py", small);
  INFO(entries);
  CHECK_THAT(entries, Catch::EndsWith(
                          "the number of entries (files, directories, links) exceeds "
                          "image_max_files (1000); raise image_max_files in [settings] to "
                          "unpack larger images"));
}

TEST_CASE("the image limits count every layer of an image together") {
  auto scratch = ScratchDir("banger-oci-limits-");
  oci::PullResult r = GeneratedPull("base_layers.py", JoinPath(scratch.path(), "layers"));
  REQUIRE(r.layer_paths.size() == 3);
  auto flatten = [&](const ExtractLimits& limits, const std::string& name) {
    std::string root = JoinPath(scratch.path(), name);
    REQUIRE(MakeDirs(root).ok());
    RootfsTree tree(root);
    return oci::Flatten(r, tree, limits);
  };
  auto all = flatten({}, "all");
  REQUIRE(all.ok());
  // One entry fewer than the image has: only the last layer goes over.
  auto short_entries = flatten({.max_entries = all->entries - 1}, "short-entries");
  REQUIRE_FALSE(short_entries.ok());
  CHECK_THAT(short_entries.error().message(), Catch::Contains("layer 3/3"));
  CHECK_THAT(short_entries.error().message(), Catch::Contains("exceeds image_max_files"));
  auto short_bytes = flatten({.max_total_bytes = all->bytes - 1}, "short-bytes");
  REQUIRE_FALSE(short_bytes.ok());
  CHECK_THAT(short_bytes.error().message(), Catch::Contains("exceeds image_max_size"));
  CHECK(flatten({.max_total_bytes = all->bytes, .max_entries = all->entries}, "exact").ok());
}

TEST_CASE("a tar image source stops at the image limits") {
  auto scratch = ScratchDir("banger-oci-tarlimits-");
  std::string layers_dir = JoinPath(scratch.path(), "layers");
  REQUIRE(MakeDirs(layers_dir).ok());
  RunFixture("hostile/bomb_entries.py", {layers_dir, "/nonexistent"});
  specs::ImageSpec spec;
  spec.name = "big";
  spec.source = specs::ImageSource::kTar;
  spec.tar = LayerFiles(layers_dir).at(0);
  auto populate = [&](const ExtractLimits& limits, const std::string& name) {
    std::string root = JoinPath(scratch.path(), name);
    REQUIRE(MakeDirs(root).ok());
    RootfsTree tree(root);
    apply::NullProgress progress;
    return image::TarSource(limits).Populate(spec, tree, progress);
  };
  Status refused = populate({.max_entries = 1000}, "refused");
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message(), Catch::StartsWith("image 'big': "));
  CHECK_THAT(refused.error().message(), Catch::Contains("exceeds image_max_files (1000)"));
  CHECK(populate({}, "default").ok());
}
