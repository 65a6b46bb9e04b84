// What a workspace import sends into a guest's /root/repo, built on the
// host before any VM is touched.
//
// A git repository becomes a fresh clone of HEAD (depth 10 in shallow
// mode) made with the host's git into a temp directory, plus the host's
// working tree laid over it: every tracked file as it is on disk (so
// modifications travel and deletions stay deleted) and every untracked
// file that is not ignored, modes and symlinks exact. The clone's index is
// HEAD's tree, so in the guest the host's changes show as unstaged. With a
// branch or a ref instead of HEAD, the guest gets that commit's files and
// the host's working tree is not used. Checked-out submodules are cloned
// the same way from the host's checkouts; a dirty one is refused.
// Anything that is not a git repository is copied as a plain directory.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"

namespace banger::workspace {

enum class CloneMode { kShallow, kFull };

Result<CloneMode> ParseCloneMode(const std::string& text);

struct ImportOptions {
  std::string path;    // the host directory (default ".")
  std::string branch;  // --branch: that branch of the repository
  std::string from;    // --from: any commit-ish
  std::string ref;     // a branch when the repository has one of that name, else as `from`
  CloneMode mode = CloneMode::kShallow;
  std::chrono::milliseconds git_timeout{std::chrono::minutes(10)};
};

// One thing the archive holds: `host_path` under the archive name `name`
// (relative, "" for the root). A directory with `recurse` brings
// everything below it.
struct ImportEntry {
  std::string name;
  std::string host_path;
  bool recurse = false;
};

struct ImportPlan {
  bool is_git = false;
  std::string source;       // the repository's top level, or the plain directory
  std::string base_commit;  // what export diffs against; empty for a plain directory
  std::vector<ImportEntry> entries;
  uint64_t total_bytes = 0;  // file and symlink sizes, for the check against disk space
  TempDir staging;           // owns the clones the entries point into
};

// The git config key in the guest repository that records the base commit.
inline constexpr char kBaseCommitKey[] = "banger.workspace-base";
// The depth of a shallow import.
inline constexpr int kShallowDepth = 10;

// Builds the import of `options.path`, cloning into a directory under
// `temp_parent`. Fails with kInvalidArgument for a missing path, a path
// that is not a directory, more than one of branch, from and ref, or a dirty submodule,
// before anything is sent anywhere.
Result<ImportPlan> BuildImport(CommandRunner& runner, const ImportOptions& options,
                               const std::string& temp_parent);

}  // namespace banger::workspace
