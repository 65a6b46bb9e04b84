// What build a binary is: the same for `banger`, `banger-helper` and the
// daemon, so each can tell when it talks to a different build.
#pragma once

#include <string>

namespace banger {

struct BuildInfo {
  std::string version;  // "0.1.0" (CMake's project version)
  std::string commit;   // git commit, "-dirty" when built with local changes
  std::string date;     // build date, YYYY-MM-DD (UTC)
};

const BuildInfo& ThisBuild();

// "0.1.0 (commit 1a2b3c4d5e6f, built 2026-11-29)": what --version prints
// and what the helper reports in its ping answer.
std::string BuildString();

}  // namespace banger
