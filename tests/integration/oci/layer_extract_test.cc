// Applying well-formed layers: OCI whiteouts and opaque directories,
// metadata kept exactly as the tar headers say, compressed tar sources.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "reconciler/image/layer_extract.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "tests/integration/oci/oci_fixtures.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::testing;
using image::EntryMeta;
using image::ExtractOptions;
using image::ExtractStats;
using image::RootfsTree;

namespace {

struct Built {
  TempDir scratch;
  std::string root;
  std::vector<std::string> layers;
};

Built BuildBaseLayers() {
  Built b{ScratchDir("banger-oci-extract-"), "", {}};
  std::string layers_dir = JoinPath(b.scratch.path(), "layers");
  REQUIRE(MakeDirs(layers_dir).ok());
  RunFixture("base_layers.py", {layers_dir});
  b.layers = LayerFiles(layers_dir);
  REQUIRE(b.layers.size() == 3);
  b.root = JoinPath(b.scratch.path(), "root");
  REQUIRE(MakeDirs(b.root).ok());
  return b;
}

mode_t DiskMode(const std::string& path) {
  struct stat st;
  REQUIRE(lstat(path.c_str(), &st) == 0);
  return st.st_mode;
}

}  // namespace

TEST_CASE("OCI layers apply oldest first with whiteouts and opaque directories") {
  Built b = BuildBaseLayers();
  RootfsTree tree(b.root);
  ExtractOptions opts;
  opts.oci_whiteouts = true;
  ExtractStats stats;
  Status st = ApplyLayers(b.layers, tree, opts, stats);
  INFO((st.ok() ? "" : st.error().message()));
  REQUIRE(st.ok());

  auto on_disk = [&](const std::string& rel) { return PathExists(JoinPath(b.root, rel)); };
  auto is_link = [&](const std::string& rel) {
    struct stat s;
    return lstat(JoinPath(b.root, rel).c_str(), &s) == 0 && S_ISLNK(s.st_mode);
  };

  // Whited out in layer 1: gone from disk and from the metadata.
  CHECK_FALSE(on_disk("gone"));
  CHECK(tree.Find("gone") == nullptr);
  CHECK(tree.Find("gone/file") == nullptr);
  CHECK_FALSE(on_disk("etc/hostname"));
  CHECK(tree.Find("etc/hostname") == nullptr);
  // The dangling symlink to it is not a whiteout target and stays.
  CHECK(is_link("link"));
  CHECK(is_link("link2"));
  REQUIRE(tree.Find("link") != nullptr);
  CHECK(S_ISLNK(tree.Find("link")->mode));

  // Opaque "data" in layer 1 keeps only layer 1's children.
  CHECK(Slurp(JoinPath(b.root, "data/new1")) == "new\n");
  CHECK_FALSE(on_disk("data/old1"));
  CHECK_FALSE(on_disk("data/sub"));
  CHECK(tree.Find("data/sub/old2") == nullptr);
  CHECK(tree.Find("data") != nullptr);

  // In-layer ordering: a whiteout or opaque marker hides lower layers only.
  CHECK(Slurp(JoinPath(b.root, "etc/extra")) == "extra\n");
  CHECK(Slurp(JoinPath(b.root, "data2/new")) == "new\n");
  CHECK_FALSE(on_disk("data2/old"));
  CHECK(Slurp(JoinPath(b.root, "etc/added")) == "added\n");

  // No whiteout survives, on disk or in the metadata.
  for (const auto& rel : ListTree(b.root)) CHECK(rel.find(".wh.") == std::string::npos);
  for (const auto& [rel, meta] : tree.entries()) CHECK(rel.find(".wh.") == std::string::npos);
}

TEST_CASE("metadata follows the tar headers while files stay owner-accessible") {
  Built b = BuildBaseLayers();
  RootfsTree tree(b.root);
  ExtractOptions opts;
  opts.oci_whiteouts = true;
  ExtractStats stats;
  REQUIRE(image::ApplyTarball(b.layers[0], tree, opts, stats).ok());

  const EntryMeta* su = tree.Find("bin/su");
  REQUIRE(su != nullptr);
  CHECK(su->mode == (S_IFREG | 04755));
  CHECK((DiskMode(JoinPath(b.root, "bin/su")) & 07777) == 0700);

  const EntryMeta* home = tree.Find("home/user");
  REQUIRE(home != nullptr);
  CHECK(home->uid == 1000);
  CHECK(home->gid == 1000);
  CHECK(home->mode == (S_IFDIR | 0700));
  CHECK(tree.Find("home/user/.profile")->uid == 1000);
  CHECK(tree.Find("tmp")->mode == (S_IFDIR | 01777));
  CHECK(tree.Find("srv")->mode == (S_IFDIR | 02775));
  CHECK(tree.Find("srv")->gid == 50);
  CHECK((DiskMode(JoinPath(b.root, "tmp")) & 07777) == 0700);
  CHECK(tree.Find("")->mode == (S_IFDIR | 0755));

  const EntryMeta* ping = tree.Find("usr/bin/ping");
  REQUIRE(ping != nullptr);
  const std::string cap("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
  REQUIRE(ping->xattrs.count("security.capability") == 1);
  CHECK(ping->xattrs.at("security.capability") == cap);
  CHECK(ping->xattrs.at("user.note") == "hello");

  // A hardlink shares the inode and the attributes of its target.
  struct stat a, h;
  REQUIRE(lstat(JoinPath(b.root, "etc/passwd").c_str(), &a) == 0);
  REQUIRE(lstat(JoinPath(b.root, "etc/passwd-hard").c_str(), &h) == 0);
  CHECK(a.st_ino == h.st_ino);
  CHECK(*tree.Find("etc/passwd-hard") == *tree.Find("etc/passwd"));

  const EntryMeta* link = tree.Find("link");
  REQUIRE(link != nullptr);
  CHECK(link->mode == (S_IFLNK | 0777));
  CHECK(stats.entries > 20);
  CHECK(stats.bytes > 0);

  // The metadata survives a Save/Load round trip exactly.
  std::string meta_path = JoinPath(b.scratch.path(), "meta.json");
  REQUIRE(tree.Save(meta_path).ok());
  auto loaded = RootfsTree::Load(b.root, meta_path);
  REQUIRE(loaded.ok());
  CHECK(loaded->entries() == tree.entries());
}

TEST_CASE("tar image sources: gzip, xz and zstd, whiteouts taken literally") {
  Built b = BuildBaseLayers();
  std::string plain = b.layers[0];
  std::vector<std::string> sources = {plain};
  for (const auto& [tool, ext] : std::vector<std::pair<std::string, std::string>>{
           {"gzip", ".gz"}, {"xz", ".xz"}, {"zstd", ".zst"}}) {
    ExecRequest req;
    req.argv = {tool, "-k", "-q", plain};
    REQUIRE(RunChecked(req).ok());
    sources.push_back(plain + ext);
  }
  for (const auto& src : sources) {
    INFO(src);
    auto root = ScratchDir("banger-oci-tarsrc-");
    RootfsTree tree(root.path());
    ExtractStats stats;
    Status st = image::ApplyTarball(src, tree, ExtractOptions{}, stats);
    INFO((st.ok() ? "" : st.error().message()));
    REQUIRE(st.ok());
    CHECK(Slurp(JoinPath(root.path(), "etc/passwd")) == "root:x:0:0:root:/root:/bin/sh\n");
    CHECK(tree.Find("bin/su")->mode == (S_IFREG | 04755));
  }
  // Without OCI semantics a ".wh." file is just a file.
  auto root = ScratchDir("banger-oci-tarsrc-");
  RootfsTree tree(root.path());
  ExtractStats stats;
  REQUIRE(image::ApplyTarball(b.layers[1], tree, ExtractOptions{}, stats).ok());
  CHECK(PathExists(JoinPath(root.path(), ".wh.gone")));
  CHECK(tree.Find("data/.wh..wh..opq") != nullptr);
}

TEST_CASE("a corrupt archive is reported, naming it") {
  auto scratch = ScratchDir("banger-oci-corrupt-");
  std::string bad = WriteFile(scratch.path(), "bad.tar.gz", std::string("\x1f\x8b\x08\x00garbage", 12));
  std::string root = JoinPath(scratch.path(), "root");
  REQUIRE(MakeDirs(root).ok());
  RootfsTree tree(root);
  ExtractStats stats;
  Status st = image::ApplyTarball(bad, tree, ExtractOptions{}, stats);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message().find(Quote(bad)) != std::string::npos);
}
