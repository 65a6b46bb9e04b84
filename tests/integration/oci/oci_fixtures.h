// Helpers shared by the OCI integration tests: running the fixture
// generators in tests/fixtures/oci and reading back what extraction wrote.
#pragma once

#include <string>
#include <vector>

#include "reconciler/image/layer_extract.h"
#include "reconciler/image/rootfs_tree.h"

namespace banger::testing {

// tests/fixtures/oci under the source tree.
std::string OciFixtureDir();

// The system Python, which has the modules the fixture scripts import.
std::string Python();

// Runs tests/fixtures/oci/<script> with args; throws on failure.
void RunFixture(const std::string& script, const std::vector<std::string>& args);

// OUT_DIR/layer0.tar, layer1.tar, ... as written by a generator, in order.
std::vector<std::string> LayerFiles(const std::string& dir);

// Applies the layers in order; stops at the first error.
Status ApplyLayers(const std::vector<std::string>& layers, image::RootfsTree& tree,
                   const image::ExtractOptions& options, image::ExtractStats& stats);

// Every path below root (relative, sorted), not following symlinks.
std::vector<std::string> ListTree(const std::string& root);

// Contents of a file, or "<missing>".
std::string Slurp(const std::string& path);

}  // namespace banger::testing
