#include "tests/integration/oci/hostile_case.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <tuple>

#include "reconciler/os/fs.h"
#include "tests/integration/oci/oci_fixtures.h"
#include "tests/support/test_env.h"

namespace banger::testing {

namespace {

const char kSentinelText[] = "original sentinel\n";

// What a write, removal, replacement, chmod or chown would change.
using NodeState = std::tuple<mode_t, uid_t, gid_t, ino_t, nlink_t, off_t, int64_t, int64_t>;

NodeState StateOf(const std::string& path) {
  struct stat st;
  REQUIRE(lstat(path.c_str(), &st) == 0);
  return {st.st_mode, st.st_uid, st.st_gid, st.st_ino, st.st_nlink, st.st_size,
          st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

// The directory itself ("") and everything below it.
std::map<std::string, NodeState> Snapshot(const std::string& dir) {
  std::map<std::string, NodeState> out{{"", StateOf(dir)}};
  for (const auto& rel : ListTree(dir)) out[rel] = StateOf(JoinPath(dir, rel));
  return out;
}

}  // namespace

std::string Inside(const std::string& root, const std::string& abs) {
  return JoinPath(root, abs.substr(1));
}

void RunHostileCase(const HostileCase& c) {
  INFO(c.generator);
  auto scratch = ScratchDir("banger-oci-hostile-");
  std::string outside = JoinPath(scratch.path(), "outside");
  std::string sentinel = WriteFile(outside, "sentinel", kSentinelText);
  // Modes and an owner that an extractor's chmod or chown would change
  // (as root it could: see the WARN in hostile_layers_test.cc).
  REQUIRE(chmod(outside.c_str(), 0750) == 0);
  REQUIRE(chmod(sentinel.c_str(), 0640) == 0);
  std::string layers_dir = JoinPath(scratch.path(), "layers");
  REQUIRE(MakeDirs(layers_dir).ok());
  RunFixture("hostile/" + c.generator, {layers_dir, sentinel});
  std::string root = JoinPath(scratch.path(), "root");
  REQUIRE(MakeDirs(root).ok());
  const auto outside_before = Snapshot(outside);
  const auto layers_before = Snapshot(layers_dir);

  image::RootfsTree tree(root);
  image::ExtractOptions opts;
  opts.oci_whiteouts = true;
  opts.keep_device_nodes = c.keep_device_nodes;
  opts.limits.max_total_bytes = kHostileMaxBytes;
  opts.limits.max_entries = kHostileMaxEntries;
  image::ExtractStats stats;
  Status st = ApplyLayers(LayerFiles(layers_dir), tree, opts, stats);
  if (c.outcome == Outcome::kRefused) {
    REQUIRE_FALSE(st.ok());
    INFO(st.error().message());
    CHECK(st.error().message().find(c.error_mentions) != std::string::npos);
    // The message says which archive and entry, so the image can be fixed.
    CHECK(st.error().message().find("extract '") != std::string::npos);
  } else {
    INFO((st.ok() ? "" : st.error().message()));
    REQUIRE(st.ok());
  }

  CHECK(Slurp(sentinel) == kSentinelText);
  CHECK(Snapshot(outside) == outside_before);
  CHECK(Snapshot(layers_dir) == layers_before);
  CHECK(*ListDir(scratch.path()) == std::vector<std::string>{"layers", "outside", "root"});
  // Nothing the tree records lies outside the root.
  for (const auto& [rel, meta] : tree.entries()) {
    INFO(rel);
    CHECK((rel.empty() || rel.front() != '/'));
    CHECK(("/" + rel + "/").find("/../") == std::string::npos);
  }
  // On disk, nothing is setuid, setgid, sticky or open to others: the
  // archive's modes live in the tree only. (The root is the test's own.)
  if (c.outcome == Outcome::kContained) {
    for (const auto& [rel, meta] : tree.entries()) {
      if (rel.empty()) continue;
      struct stat on_disk;
      std::string path = JoinPath(root, rel);
      if (path.size() >= PATH_MAX || lstat(path.c_str(), &on_disk) != 0) continue;
      INFO(rel);
      if (!S_ISLNK(on_disk.st_mode)) CHECK((on_disk.st_mode & 07077) == 0);
    }
  }
  if (c.check) c.check(root, sentinel, tree, stats);
}

}  // namespace banger::testing
