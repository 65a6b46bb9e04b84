// Hostile layers, links and whiteouts: directories replaced by symlinks
// (within a layer and across layers), chains and /proc escapes, hard links
// to what must not be linked, whiteouts and opaque markers of ".", ".."
// and through or of symlinks. Run by hostile_layers_test.cc.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "reconciler/os/fs.h"
#include "tests/integration/oci/hostile_case.h"
#include "tests/integration/oci/oci_fixtures.h"

namespace banger::testing {

namespace {

using image::ExtractStats;
using image::RootfsTree;

bool IsSymlink(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

bool IsDir(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The write through the planted link landed inside the root, at the
// sentinel's path as if the root were "/".
void LandedInside(const std::string& root, const std::string& sentinel, const RootfsTree&,
                  const ExtractStats&) {
  CHECK(Slurp(Inside(root, sentinel)) == "pwned\n");
}

}  // namespace

std::vector<HostileCase> LinkAndWhiteoutCases() {
  return {
      {"dir_replaced_by_symlink_across_layers.py", Outcome::kContained, "",
       [](const std::string& root, const std::string& sentinel, const RootfsTree& tree,
          const ExtractStats& stats) {
         LandedInside(root, sentinel, tree, stats);
         CHECK(IsSymlink(JoinPath(root, "etc")));
         CHECK(tree.Find("etc/hosts") == nullptr);
       }},
      {"dir_replaced_by_symlink_same_layer.py", Outcome::kContained, "",
       [](const std::string& root, const std::string& sentinel, const RootfsTree& tree,
          const ExtractStats& stats) {
         LandedInside(root, sentinel, tree, stats);
         CHECK(IsSymlink(JoinPath(root, "d")));
       }},
      {"dir_entry_over_symlink.py", Outcome::kContained, "",
       [](const std::string& root, const std::string&, const RootfsTree& tree,
          const ExtractStats&) {
         // The link is replaced by a real directory; its mode and owner go
         // to the tree, not to anything on disk.
         CHECK(IsDir(JoinPath(root, "s")));
         REQUIRE(tree.Find("s") != nullptr);
         CHECK(tree.Find("s")->mode == (S_IFDIR | 0777));
         CHECK(tree.Find("s")->uid == 4242);
       }},
      {"symlink_chain_escape.py", Outcome::kContained, "", LandedInside},
      {"symlink_proc_self_root.py", Outcome::kContained, "",
       [](const std::string& root, const std::string& sentinel, const RootfsTree&,
          const ExtractStats&) {
         CHECK(Slurp(JoinPath(root, "proc/self/root" + sentinel)) == "pwned\n");
       }},
      {"pax_linkpath_escape.py", Outcome::kContained, "", LandedInside},
      {"hardlink_to_symlink_outside.py", Outcome::kContained, "",
       [](const std::string& root, const std::string&, const RootfsTree& tree,
          const ExtractStats&) {
         // A second name of the link, not of what it points at.
         CHECK(IsSymlink(JoinPath(root, "h")));
         REQUIRE(tree.Find("h") != nullptr);
       }},
      {"hardlink_absolute.py", Outcome::kRefused, "absolute path", nullptr},
      {"hardlink_to_directory.py", Outcome::kRefused, "hardlink to 'd'", nullptr},
      {"hardlink_to_missing.py", Outcome::kRefused, "hardlink target 'nowhere/file'", nullptr},
      {"gnu_longlink_hardlink_escape.py", Outcome::kRefused, "'..'", nullptr},
      {"whiteout_dotdot_name.py", Outcome::kRefused, "whiteout names no file", nullptr},
      {"whiteout_dot_name.py", Outcome::kRefused, "whiteout names no file", nullptr},
      {"whiteout_root_dotdot.py", Outcome::kRefused, "whiteout names no file", nullptr},
      {"whiteout_absolute.py", Outcome::kRefused, "absolute path", nullptr},
      {"opaque_dotdot.py", Outcome::kRefused, "'..'", nullptr},
      {"whiteout_of_symlink.py", Outcome::kContained, "",
       [](const std::string& root, const std::string&, const RootfsTree& tree,
          const ExtractStats&) {
         CHECK_FALSE(PathExists(JoinPath(root, "link")));
         CHECK(tree.Find("link") == nullptr);
         CHECK(Slurp(JoinPath(root, "keep")) == "kept\n");
       }},
      {"opaque_root.py", Outcome::kContained, "",
       [](const std::string& root, const std::string&, const RootfsTree& tree,
          const ExtractStats&) {
         CHECK(ListTree(root) == std::vector<std::string>{"new"});
         CHECK(tree.Find("etc/old") == nullptr);
         CHECK(tree.Find("") != nullptr);
       }},
      {"file_replaced_by_dir.py", Outcome::kContained, "",
       [](const std::string& root, const std::string&, const RootfsTree&, const ExtractStats&) {
         CHECK(IsDir(JoinPath(root, "x")));
         CHECK(Slurp(JoinPath(root, "x/y")) == "y\n");
       }},
      {"duplicate_entries.py", Outcome::kContained, "",
       [](const std::string& root, const std::string&, const RootfsTree&, const ExtractStats&) {
         CHECK(Slurp(JoinPath(root, "f")) == "second\n");
         CHECK_FALSE(IsSymlink(JoinPath(root, "g")));
         CHECK(Slurp(JoinPath(root, "g")) == "third\n");
       }},
  };
}

}  // namespace banger::testing
