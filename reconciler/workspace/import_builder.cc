#include "reconciler/workspace/import_builder.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <map>
#include <set>

#include "reconciler/workspace/git_command.h"

namespace banger::workspace {
namespace {

// Sizes of the files and symlinks under `path` (not following links).
Result<uint64_t> TreeBytes(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return Error::FromErrno("stat " + Quote(path));
  if (!S_ISDIR(st.st_mode)) return static_cast<uint64_t>(st.st_size);
  uint64_t total = 0;
  BANGER_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(path));
  for (const std::string& n : names) {
    BANGER_ASSIGN_OR_RETURN(uint64_t b, TreeBytes(JoinPath(path, n)));
    total += b;
  }
  return total;
}

// submodule path -> name, from the repository's .gitmodules.
Result<std::map<std::string, std::string>> SubmoduleNames(const GitCommand& git,
                                                          const std::string& top) {
  std::map<std::string, std::string> names;
  if (!PathExists(JoinPath(top, ".gitmodules"))) return names;
  BANGER_ASSIGN_OR_RETURN(std::optional<std::string> out,
                          git.Maybe(top, {"config", "-z", "-f", ".gitmodules", "--get-regexp",
                                          R"(^submodule\..*\.path$)"}));
  for (const std::string& item : SplitNul(out.value_or(""))) {
    size_t nl = item.find('\n');
    if (nl == std::string::npos) continue;
    std::string key = item.substr(0, nl);  // submodule.<name>.path
    const std::string prefix = "submodule.", suffix = ".path";
    if (key.size() <= prefix.size() + suffix.size()) continue;
    names[item.substr(nl + 1)] =
        key.substr(prefix.size(), key.size() - prefix.size() - suffix.size());
  }
  return names;
}

class RepoImporter {
 public:
  RepoImporter(const GitCommand& git, CloneMode mode, ImportPlan& plan)
      : git_(git), mode_(mode), plan_(plan), staging_root_(plan.staging.path()) {}

  // Clones `rev` of the repository at `top` into `stage` and adds what the
  // guest gets under `prefix` ("" or "sub/dir/"). `overlay`: the working
  // tree of `top` is laid over the clone. Returns the commit.
  Result<std::string> Import(const std::string& top, const std::string& prefix,
                             const std::string& rev, const std::string& branch, bool overlay,
                             const std::string& stage) {
    BANGER_ASSIGN_OR_RETURN(
        std::optional<std::string> commit,
        git_.Maybe(top, {"rev-parse", "--verify", "-q", rev + "^{commit}"}));
    if (!commit) return InvalidArgument("repository " + Quote(top) + " has no commit " + Quote(rev));
    BANGER_RETURN_IF_ERROR(MakeDirs(stage, 0700));
    BANGER_RETURN_IF_ERROR(git_.Run(stage, {"-c", "init.defaultBranch=workspace", "init", "-q"}));
    std::vector<std::string> fetch = {"fetch", "-q", "--no-tags"};
    if (mode_ == CloneMode::kShallow) {
      fetch.push_back("--depth");
      fetch.push_back(std::to_string(kShallowDepth));
    }
    fetch.push_back("file://" + top);
    fetch.push_back(*commit);
    BANGER_RETURN_IF_ERROR(git_.Run(stage, fetch));
    BANGER_RETURN_IF_ERROR(SetHead(stage, *commit, branch));
    BANGER_RETURN_IF_ERROR(CopyConfig(top, stage, branch));
    BANGER_RETURN_IF_ERROR(git_.Run(stage, {"config", kBaseCommitKey, *commit}));
    if (!overlay) {
      // The commit's own files: checked out in the stage, sent whole.
      BANGER_RETURN_IF_ERROR(git_.Run(stage, {"read-tree", "--reset", "-u", *commit}));
      std::string root = prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1);
      plan_.entries.push_back({root, stage, true});
      BANGER_ASSIGN_OR_RETURN(uint64_t b, TreeBytes(stage));
      plan_.total_bytes += b;
      BANGER_ASSIGN_OR_RETURN(auto gitlinks, TreeGitlinks(stage, *commit));
      BANGER_RETURN_IF_ERROR(AddSubmodules(top, prefix, stage, stage, gitlinks));
      return *commit;
    }
    BANGER_RETURN_IF_ERROR(git_.Run(stage, {"read-tree", *commit}));
    plan_.entries.push_back({prefix + ".git", JoinPath(stage, ".git"), true});
    BANGER_ASSIGN_OR_RETURN(uint64_t b, TreeBytes(JoinPath(stage, ".git")));
    plan_.total_bytes += b;
    BANGER_RETURN_IF_ERROR(AddWorkingTree(top, prefix, stage));
    return *commit;
  }

 private:
  // The host's branch name when it has one, else a detached HEAD.
  Status SetHead(const std::string& stage, const std::string& commit, const std::string& branch) {
    if (branch.empty()) return Done(git_.Run(stage, {"update-ref", "--no-deref", "HEAD", commit}));
    BANGER_RETURN_IF_ERROR(git_.Run(stage, {"update-ref", "refs/heads/" + branch, commit}));
    return Done(git_.Run(stage, {"symbolic-ref", "HEAD", "refs/heads/" + branch}));
  }

  static Status Done(const Result<std::string>& r) { return r.ok() ? OkStatus() : Status(r.error()); }

  // origin from the host's upstream remote; the effective identity.
  Status CopyConfig(const std::string& top, const std::string& stage, const std::string& branch) {
    std::string remote = "origin";
    if (!branch.empty()) {
      BANGER_ASSIGN_OR_RETURN(std::optional<std::string> r,
                              git_.Maybe(top, {"config", "branch." + branch + ".remote"}));
      if (r && !r->empty() && *r != ".") remote = *r;
    }
    BANGER_ASSIGN_OR_RETURN(std::optional<std::string> url,
                            git_.Maybe(top, {"config", "remote." + remote + ".url"}));
    if (url) BANGER_RETURN_IF_ERROR(git_.Run(stage, {"remote", "add", "origin", *url}));
    for (const char* key : {"user.name", "user.email"}) {
      BANGER_ASSIGN_OR_RETURN(std::optional<std::string> v, git_.Maybe(top, {"config", key}));
      if (v) BANGER_RETURN_IF_ERROR(git_.Run(stage, {"config", key, *v}));
    }
    return OkStatus();
  }

  Status AddWorkingTree(const std::string& top, const std::string& prefix,
                        const std::string& stage) {
    BANGER_ASSIGN_OR_RETURN(std::string staged, git_.Run(top, {"ls-files", "-z", "-s"}));
    std::map<std::string, std::string> gitlinks;  // path -> commit (the host checkout's HEAD)
    for (const std::string& line : SplitNul(staged)) {
      size_t tab = line.find('\t');
      if (tab != std::string::npos && line.rfind("160000 ", 0) == 0) gitlinks[line.substr(tab + 1)] = "";
    }
    BANGER_ASSIGN_OR_RETURN(std::string listed, git_.Run(top, {"ls-files", "-z", "--cached", "--others",
                                                               "--exclude-standard"}));
    std::set<std::string> paths;
    for (std::string& p : SplitNul(listed)) paths.insert(std::move(p));
    for (const std::string& p : paths) {
      // A trailing '/' is an untracked nested repository, which git itself
      // would not add; gitlinks are cloned below.
      if (p.back() == '/' || gitlinks.count(p)) continue;
      const std::string host = JoinPath(top, p);
      struct stat st;
      if (lstat(host.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) continue;  // deleted in the working tree
        return Error::FromErrno("stat " + Quote(host));
      }
      plan_.entries.push_back({prefix + p, host, false});
      if (!S_ISDIR(st.st_mode)) plan_.total_bytes += static_cast<uint64_t>(st.st_size);
    }
    return AddSubmodules(top, prefix, stage, top, gitlinks);
  }

  // The gitlinks of `commit`'s tree, with the commits it records.
  Result<std::map<std::string, std::string>> TreeGitlinks(const std::string& stage,
                                                          const std::string& commit) {
    BANGER_ASSIGN_OR_RETURN(std::string tree, git_.Run(stage, {"ls-tree", "-r", "-z", commit}));
    std::map<std::string, std::string> gitlinks;
    for (const std::string& line : SplitNul(tree)) {
      // "160000 commit <sha>\t<path>"
      size_t tab = line.find('\t');
      if (tab == std::string::npos || line.rfind("160000 commit ", 0) != 0) continue;
      gitlinks[line.substr(tab + 1)] = line.substr(14, tab - 14);
    }
    return gitlinks;
  }

  // Clones each initialised submodule of `top` from the host's checkout
  // into a stage of its own and adds it under `prefix`. A gitlink with an
  // empty commit takes the checkout's HEAD and working tree (which must be
  // clean); one with a commit takes that commit's files, which the
  // checkout must have. `gitmodules_dir` holds the .gitmodules that names
  // them. Submodules the host has not initialised stay empty directories,
  // as git leaves them.
  Status AddSubmodules(const std::string& top, const std::string& prefix, const std::string& stage,
                       const std::string& gitmodules_dir,
                       const std::map<std::string, std::string>& gitlinks) {
    if (gitlinks.empty()) return OkStatus();
    BANGER_ASSIGN_OR_RETURN(auto names, SubmoduleNames(git_, gitmodules_dir));
    for (const auto& [p, recorded] : gitlinks) {
      const std::string sub = JoinPath(top, p);
      if (!PathExists(JoinPath(sub, ".git"))) {
        if (recorded.empty() && IsDirectory(sub)) plan_.entries.push_back({prefix + p, sub, false});
        continue;
      }
      const std::string sub_stage = NextStage();
      if (recorded.empty()) {
        BANGER_ASSIGN_OR_RETURN(std::string dirty,
                                git_.Run(sub, {"status", "--porcelain", "--ignore-submodules=none"}));
        if (!dirty.empty())
          return InvalidArgument("submodule " + Quote(prefix + p) + " has uncommitted changes (" +
                                 dirty.substr(0, dirty.find('\n')) +
                                 "); commit or stash them before the import");
        BANGER_ASSIGN_OR_RETURN(std::optional<std::string> sub_branch,
                                git_.Maybe(sub, {"symbolic-ref", "-q", "--short", "HEAD"}));
        auto sub_commit = Import(sub, prefix + p + "/", "HEAD", sub_branch.value_or(""), true, sub_stage);
        if (!sub_commit.ok()) return std::move(sub_commit).error();
      } else {
        BANGER_ASSIGN_OR_RETURN(std::optional<std::string> has,
                                git_.Maybe(sub, {"rev-parse", "--verify", "-q", recorded + "^{commit}"}));
        if (!has)
          return InvalidArgument("submodule " + Quote(prefix + p) + ": the host's checkout " +
                                 Quote(sub) + " lacks commit " + recorded.substr(0, 12) +
                                 " that the imported commit records; fetch it there first");
        // Detached at the recorded commit, as `git submodule update` leaves it.
        auto sub_commit = Import(sub, prefix + p + "/", recorded, "", false, sub_stage);
        if (!sub_commit.ok()) return std::move(sub_commit).error();
      }
      auto name = names.find(p);
      if (name == names.end()) continue;
      const std::string key = "submodule." + name->second;
      // The host's initialised URL, else the one .gitmodules declares.
      BANGER_ASSIGN_OR_RETURN(std::optional<std::string> host_url,
                              git_.Maybe(top, {"config", key + ".url"}));
      BANGER_ASSIGN_OR_RETURN(
          std::optional<std::string> declared_url,
          git_.Maybe(gitmodules_dir, {"config", "-f", ".gitmodules", key + ".url"}));
      const std::optional<std::string>& url = host_url ? host_url : declared_url;
      if (url) BANGER_RETURN_IF_ERROR(git_.Run(stage, {"config", key + ".url", *url}));
      BANGER_RETURN_IF_ERROR(git_.Run(stage, {"config", key + ".active", "true"}));
    }
    return OkStatus();
  }

  // A fresh directory under the staging root for one more clone. Stages
  // are siblings, never nested: a commit's stage is sent whole.
  std::string NextStage() { return JoinPath(staging_root_, "sub-" + std::to_string(next_stage_++)); }

  const GitCommand& git_;
  CloneMode mode_;
  ImportPlan& plan_;
  std::string staging_root_;
  int next_stage_ = 0;
};

}  // namespace

Result<CloneMode> ParseCloneMode(const std::string& text) {
  if (text == "shallow") return CloneMode::kShallow;
  if (text == "full") return CloneMode::kFull;
  return InvalidArgument("--mode " + Quote(text) + ": expected shallow or full");
}

Result<ImportPlan> BuildImport(CommandRunner& runner, const ImportOptions& options,
                               const std::string& temp_parent) {
  const std::string given = options.path.empty() ? "." : options.path;
  struct stat st;
  if (stat(given.c_str(), &st) != 0) {
    if (errno == ENOENT) return InvalidArgument("workspace path " + Quote(given) + " does not exist");
    return Error::FromErrno("workspace path " + Quote(given));
  }
  if (!S_ISDIR(st.st_mode)) return InvalidArgument("workspace path " + Quote(given) + " is not a directory");
  if (!options.branch.empty() + !options.from.empty() + !options.ref.empty() > 1)
    return InvalidArgument("--branch and --from name the commit twice; give one");
  char resolved[PATH_MAX];
  if (!realpath(given.c_str(), resolved)) return Error::FromErrno("resolve " + Quote(given));

  GitCommand git(runner, options.git_timeout);
  ImportPlan plan;
  BANGER_ASSIGN_OR_RETURN(std::optional<std::string> top,
                          git.Maybe(resolved, {"rev-parse", "--show-toplevel"}, 128));
  BANGER_ASSIGN_OR_RETURN(plan.staging, TempDir::Create(temp_parent, "workspace-"));
  if (!top || top->empty()) {
    if (!options.branch.empty() || !options.from.empty() || !options.ref.empty())
      return InvalidArgument("workspace path " + Quote(resolved) +
                             " is not a git repository; a branch or commit needs one");
    plan.source = resolved;
    plan.entries.push_back({"", resolved, true});
    BANGER_ASSIGN_OR_RETURN(plan.total_bytes, TreeBytes(resolved));
    return plan;
  }
  plan.is_git = true;
  plan.source = *top;
  std::string rev = "HEAD", branch;
  bool overlay = true;
  std::string as_branch = options.branch, as_commit = options.from;
  if (!options.ref.empty()) {
    BANGER_ASSIGN_OR_RETURN(std::optional<std::string> local,
                            git.Maybe(*top, {"show-ref", "--verify", "-q", "refs/heads/" + options.ref}));
    (local ? as_branch : as_commit) = options.ref;
  }
  if (!as_branch.empty()) {
    rev = "refs/heads/" + as_branch;
    branch = as_branch;
    overlay = false;
  } else if (!as_commit.empty()) {
    rev = as_commit;
    overlay = false;
  } else {
    BANGER_ASSIGN_OR_RETURN(std::optional<std::string> b,
                            git.Maybe(*top, {"symbolic-ref", "-q", "--short", "HEAD"}));
    branch = b.value_or("");
  }
  RepoImporter importer(git, options.mode, plan);
  BANGER_ASSIGN_OR_RETURN(plan.base_commit,
                          importer.Import(*top, "", rev, branch, overlay, JoinPath(plan.staging.path(), "repo")));
  return plan;
}

}  // namespace banger::workspace
