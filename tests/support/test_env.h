// Shared test helpers: where the sources and binaries are, scratch dirs.
#pragma once

#include <string>

#include "reconciler/os/fs.h"

namespace banger::testing {

// The repository root and the build directory (compiled in).
std::string SourceDir();
std::string BinaryDir();
// The built `banger` binary.
std::string BangerBin();

// A fresh scratch directory under $TMPDIR, removed by its owner.
TempDir ScratchDir(const std::string& prefix = "banger-test-");

// Writes `content` to `dir/name` (creating parents) and returns the path.
std::string WriteFile(const std::string& dir, const std::string& name,
                      const std::string& content);

}  // namespace banger::testing
