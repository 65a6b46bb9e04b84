// The layer flattener on arbitrary archives: up to four layers per input,
// separated by kLayerSeparator, applied in order to one staging tree with
// OCI whiteouts and device nodes as metadata (what an OCI pull does), under
// small limits so bombs end quickly. Properties: no crash or sanitizer
// report; nothing appears, disappears or changes next to the staging root
// (a sentinel file and the layer files themselves); every path the tree
// records is relative and free of "..".
#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/image/layer_extract.h"
#include "reconciler/os/fs.h"
#include "tests/fuzz/fuzz_support.h"

using namespace banger;

namespace {

// Chosen so it cannot occur in a tar header by accident; seeds put it
// between whole archives (tests/fuzz/corpus/README.md).
constexpr std::string_view kLayerSeparator = "\n--banger-fuzz-layer--\n";
constexpr size_t kMaxLayers = 4;
constexpr char kSentinelText[] = "sentinel outside the root\n";

struct Stamp {
  ino_t ino = 0;
  off_t size = 0;
  mode_t mode = 0;
  nlink_t nlink = 0;
};

Stamp StampOf(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) fuzz::Fail("sentinel " + path + " is gone");
  return {st.st_ino, st.st_size, st.st_mode, st.st_nlink};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string_view> parts = fuzz::SplitOn(fuzz::AsView(data, size), kLayerSeparator);
  if (parts.size() > kMaxLayers) return 0;

  static const std::string sentinel = fuzz::WriteInput("sentinel", kSentinelText);
  static const Stamp sentinel_stamp = StampOf(sentinel);
  std::vector<std::string> layers;
  for (size_t i = 0; i < parts.size(); ++i)
    layers.push_back(fuzz::WriteInput("layer" + std::to_string(i), parts[i]));
  std::string root = JoinPath(fuzz::Scratch(), "root");
  if (!RemoveTree(root).ok() || !MakeDirs(root, 0755).ok()) fuzz::Fail("reset " + root);
  std::vector<std::string> expected_outside = fuzz::Children(fuzz::Scratch());

  image::RootfsTree tree(root);
  image::ExtractOptions options;
  options.oci_whiteouts = true;
  options.keep_device_nodes = true;
  options.limits.max_total_bytes = 4 << 20;
  options.limits.max_entries = 4096;
  image::ExtractStats stats;
  for (const auto& layer : layers) {
    Status st = image::ApplyTarball(layer, tree, options, stats);
    if (!st.ok()) {
      if (st.error().message().empty()) fuzz::Fail("refusal without a message");
      break;
    }
  }

  if (fuzz::Children(fuzz::Scratch()) != expected_outside)
    fuzz::Fail("an entry appeared or vanished next to the root");
  Stamp now = StampOf(sentinel);
  if (now.ino != sentinel_stamp.ino || now.size != sentinel_stamp.size ||
      now.mode != sentinel_stamp.mode || now.nlink != sentinel_stamp.nlink)
    fuzz::Fail("the sentinel outside the root changed");
  Result<std::string> text = ReadFile(sentinel);
  if (!text.ok() || *text != kSentinelText) fuzz::Fail("the sentinel's contents changed");
  for (const auto& [rel, meta] : tree.entries()) {
    if (!rel.empty() && (rel.front() == '/' || rel == ".." || rel.starts_with("../") ||
                         rel.ends_with("/..") || rel.find("/../") != std::string::npos))
      fuzz::Fail("tree records a path outside the root: '" + rel + "'");
  }
  // Layers of this input only; the next input writes its own.
  for (const auto& layer : layers) (void)RemoveTree(layer);
  return 0;
}
