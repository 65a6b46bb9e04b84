// Running one generator of the hostile layer corpus (tests/fixtures/oci/
// hostile) against a fresh root next to an "outside" directory holding a
// sentinel file, and checking that nothing outside the root was written,
// removed, replaced or re-permissioned, whatever the case's outcome.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "reconciler/image/layer_extract.h"
#include "reconciler/image/rootfs_tree.h"

namespace banger::testing {

enum class Outcome { kRefused, kContained };

struct HostileCase {
  std::string generator;       // file name in tests/fixtures/oci/hostile
  Outcome outcome;
  std::string error_mentions;  // substring of the error when refused
  // Extra checks on what a contained case left: (root, sentinel, tree, stats).
  std::function<void(const std::string&, const std::string&, const image::RootfsTree&,
                     const image::ExtractStats&)>
      check;
  bool keep_device_nodes = false;  // as OCI pulls do when building as root
};

// Limits every case runs under, so bombs are cut short.
inline constexpr uint64_t kHostileMaxBytes = 1 << 20;  // "1M" in messages
inline constexpr uint64_t kHostileMaxEntries = 1000;

// Runs the case (Catch assertions) with OCI whiteouts on.
void RunHostileCase(const HostileCase& c);

// `abs` (an absolute host path) as it lands inside `root` when an archive
// resolves it as if the root were "/".
std::string Inside(const std::string& root, const std::string& abs);

// The tables, by class (hostile_layers_test.cc runs them all and checks
// that every generator in the directory is in one).
std::vector<HostileCase> EscapeCases();      // paths and links leaving the root
std::vector<HostileCase> LinkAndWhiteoutCases();
std::vector<HostileCase> ArchiveFormatCases();  // long names, sparse, size lies, bombs

}  // namespace banger::testing
