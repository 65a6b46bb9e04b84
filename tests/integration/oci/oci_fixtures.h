// Helpers shared by the OCI integration tests: running the fixture
// generators in tests/fixtures/oci and reading back what extraction wrote.
#pragma once

#include <string>
#include <vector>

#include "reconciler/image/layer_extract.h"
#include "reconciler/image/rootfs_tree.h"
#include "reconciler/oci/puller.h"
#include "tests/support/oci_registry.h"

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

// An OCI layout built once per process with:
//   "v1"     the three base_layers.py layers, config Env BANGER=1,
//            Entrypoint ["/bin/sh","-c"], Cmd ["echo hi"], User 1000:1000,
//            WorkingDir /srv;
//   "amd64", "arm64"  one layer each with /arch naming the architecture;
//   "multi"  an image index over those two.
const std::string& FixtureLayout();

// Starts tests/fixtures/oci/<script> on 127.0.0.1:port and waits until it
// answers `probe_path`.
ChildProcess StartHelperServer(const std::string& script, int port,
                               const std::vector<std::string>& args, const std::string& log,
                               const std::string& probe_path = "/v2/");

// Pull options with the cache in `dir` and a docker config that does not
// exist (no credentials), unless one is given.
oci::PullOptions TestPullOptions(const std::string& dir, const std::string& docker_config = "");

// Whether every blob in <cache>/oci/blobs/sha256 has the digest it is named
// by, and no partial download is left behind.
bool CacheIsClean(const std::string& cache_dir);

}  // namespace banger::testing
