// Hostile layers, archive formats: PAX and GNU long names and link names,
// sparse files, headers that lie about sizes, compression bombs, limits
// reached only across layers, device nodes with numbers that do not fit,
// FIFOs, special modes, a root that is a file, paths past PATH_MAX and
// garbage after the last entry. Run by hostile_layers_test.cc.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"
#include "tests/integration/oci/hostile_case.h"
#include "tests/integration/oci/oci_fixtures.h"

namespace banger::testing {

namespace {

using image::ExtractStats;
using image::RootfsTree;

const char kTooBig[] = "exceeds image_max_size (1M)";

std::string Repeat(char c, size_t n) { return std::string(n, c); }

}  // namespace

std::vector<HostileCase> ArchiveFormatCases() {
  return {
      {"pax_path_dotdot.py", Outcome::kRefused, "'..'", nullptr},
      {"gnu_longname_dotdot.py", Outcome::kRefused, "'..'", nullptr},
      {"gnu_longname_absolute.py", Outcome::kRefused, "absolute path", nullptr},
      {"pax_long_names_inside.py", Outcome::kContained, "",
       [](const std::string& root, const std::string&, const RootfsTree&, const ExtractStats&) {
         std::string deep = Repeat('a', 200) + "/" + Repeat('b', 200) + "/" + Repeat('c', 200);
         CHECK(Slurp(JoinPath(root, deep + "/pax-file")) == "pax\n");
         CHECK(Slurp(JoinPath(root, deep + "/" + Repeat('g', 150))) == "gnu\n");
       }},
      {"device_huge_numbers.py", Outcome::kRefused, "device number", nullptr,
       /*keep_device_nodes=*/true},
      {"fifo_node.py", Outcome::kContained, "",
       [](const std::string& root, const std::string&, const RootfsTree& tree,
          const ExtractStats&) {
         struct stat st;
         REQUIRE(lstat(JoinPath(root, "run/initctl").c_str(), &st) == 0);
         CHECK(S_ISFIFO(st.st_mode));
         REQUIRE(tree.Find("run/initctl") != nullptr);
         CHECK(S_ISFIFO(tree.Find("run/initctl")->mode));
       }},
      {"sparse_size_lie.py", Outcome::kRefused, kTooBig,
       [](const std::string& root, const std::string&, const RootfsTree&, const ExtractStats&) {
         CHECK_FALSE(PathExists(JoinPath(root, "sparse")));
       }},
      {"sparse_hole.py", Outcome::kContained, "",
       [](const std::string& root, const std::string&, const RootfsTree&, const ExtractStats&) {
         UniqueFd fd(open(JoinPath(root, "sparse").c_str(), O_RDONLY | O_CLOEXEC));
         REQUIRE(fd.valid());
         struct stat st;
         REQUIRE(fstat(fd.get(), &st) == 0);
         CHECK(st.st_size == 512 << 10);
         char buf[4];
         REQUIRE(pread(fd.get(), buf, 4, 500000) == 4);
         CHECK(std::string(buf, 4) == "data");
       }},
      {"sparse_map_beyond_size.py", Outcome::kRefused, "data beyond the declared size", nullptr},
      {"size_lie_truncated.py", Outcome::kRefused, "Truncated tar archive", nullptr},
      {"size_lie_pax.py", Outcome::kRefused, kTooBig, nullptr},
      {"gnu_base256_size.py", Outcome::kRefused, kTooBig, nullptr},
      {"bomb_zstd.py", Outcome::kRefused, kTooBig, nullptr},
      {"bomb_xz.py", Outcome::kRefused, kTooBig, nullptr},
      {"entries_across_layers.py", Outcome::kRefused, "exceeds image_max_files (1000)",
       nullptr},
      {"bytes_across_layers.py", Outcome::kRefused, kTooBig, nullptr},
      {"setuid_and_sticky.py", Outcome::kContained, "",
       [](const std::string&, const std::string&, const RootfsTree& tree, const ExtractStats&) {
         // The image gets the modes; the staging tree on disk does not
         // (hostile_case.cc checks every path for that).
         REQUIRE(tree.Find("su") != nullptr);
         CHECK(tree.Find("su")->mode == (S_IFREG | 04755));
         CHECK(tree.Find("tmp")->mode == (S_IFDIR | 01777));
         CHECK(tree.Find("srv")->mode == (S_IFDIR | 02775));
       }},
      {"root_as_file.py", Outcome::kRefused, "the root must be a directory", nullptr},
      {"deep_path.py", Outcome::kContained, "",
       [](const std::string&, const std::string&, const RootfsTree& tree,
          const ExtractStats& stats) {
         std::string rel;
         for (int i = 0; i < 1400; ++i) rel += "dd/";
         CHECK(tree.Find(rel + "bottom") != nullptr);
         CHECK(stats.entries == 1);
       }},
      {"trailing_garbage.py", Outcome::kRefused, "read header: Damaged tar archive", nullptr},
  };
}

}  // namespace banger::testing
