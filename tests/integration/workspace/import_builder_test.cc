// The workspace import against the real git: a repository with history,
// working-tree changes of every kind and a submodule is built into a tar,
// extracted into a temp directory as the guest would, and inspected there.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"
#include "reconciler/workspace/import_builder.h"
#include "reconciler/workspace/tree_tar.h"

namespace banger::workspace {
namespace {

std::string Run(const std::vector<std::string>& argv, const std::string& cwd = "") {
  ExecRequest req;
  req.argv = argv;
  req.cwd = cwd;
  std::vector<std::string> env = DefaultEnvironment();
  for (const char* v : {"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
                        "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"})
    env.push_back(v);
  req.env = env;
  auto r = RunChecked(req);
  INFO(DescribeArgv(argv) << (r.ok() ? "" : r.error().message()));
  REQUIRE(r.ok());
  std::string out = r->out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

struct Fixture {
  TempDir dir = std::move(TempDir::Create(HostTempParent(), "ws-test-").value());
  std::string repo = JoinPath(dir.path(), "repo");
  std::string sub_origin = JoinPath(dir.path(), "sub-origin");

  Fixture() {
    Run({"git", "init", "-q", "-b", "main", sub_origin});
    Write(JoinPath(sub_origin, "lib.txt"), "library\n");
    Run({"git", "add", "-A"}, sub_origin);
    Run({"git", "commit", "-q", "-m", "lib"}, sub_origin);

    Run({"git", "init", "-q", "-b", "main", repo});
    Run({"git", "config", "user.name", "Repo Person"}, repo);
    Run({"git", "config", "user.email", "person@example.com"}, repo);
    Run({"git", "remote", "add", "origin", "https://example.com/app.git"}, repo);
    for (int i = 0; i < 12; ++i) {
      Write(JoinPath(repo, "history.txt"), std::to_string(i) + "\n");
      Run({"git", "add", "-A"}, repo);
      Run({"git", "commit", "-q", "-m", "c" + std::to_string(i)}, repo);
    }
    Write(JoinPath(repo, "tracked.txt"), "original\n");
    Write(JoinPath(repo, "gone.txt"), "to delete\n");
    Write(JoinPath(repo, ".gitignore"), "*.log\n");
    Write(JoinPath(repo, "tool.sh"), "#!/bin/sh\necho hi\n");
    chmod(JoinPath(repo, "tool.sh").c_str(), 0755);
    Write(JoinPath(repo, "blob.bin"), std::string("\0\1\2\377binary", 10));
    REQUIRE(symlink("tracked.txt", JoinPath(repo, "link").c_str()) == 0);
    Run({"git", "-c", "protocol.file.allow=always", "submodule", "add", "-q", sub_origin, "sub"}, repo);
    Run({"git", "add", "-A"}, repo);
    Run({"git", "commit", "-q", "-m", "files"}, repo);
    // The working tree moves on from HEAD.
    Write(JoinPath(repo, "tracked.txt"), "modified\n");
    unlink(JoinPath(repo, "gone.txt").c_str());
    Write(JoinPath(repo, "new.txt"), "untracked\n");
    Write(JoinPath(repo, "debug.log"), "ignored\n");
  }

  // Builds, tars and extracts the import; returns the extracted directory.
  std::string Import(ImportOptions options, ImportPlan* out_plan = nullptr) {
    auto plan = BuildImport(SystemRunner(), options, dir.path());
    INFO((plan.ok() ? "" : plan.error().message()));
    REQUIRE(plan.ok());
    const std::string tar = JoinPath(dir.path(), "import.tar");
    std::ofstream f(tar, std::ios::binary | std::ios::trunc);
    REQUIRE(WriteImportTar(plan->entries, [&](std::string_view d) {
              f.write(d.data(), static_cast<std::streamsize>(d.size()));
              return OkStatus();
            }).ok());
    f.close();
    const std::string guest = JoinPath(dir.path(), "guest-" + std::to_string(++imports));
    REQUIRE(MakeDirs(guest).ok());
    Run({"tar", "-x", "-f", tar, "-C", guest});
    if (out_plan) *out_plan = std::move(*plan);
    return guest;
  }
  int imports = 0;
};

TEST_CASE("a repository import is a depth-10 clone with the working tree laid over it") {
  Fixture fx;
  ImportOptions options;
  options.path = fx.repo;
  ImportPlan plan;
  const std::string g = fx.Import(options, &plan);
  const std::string head = Run({"git", "rev-parse", "HEAD"}, fx.repo);
  CHECK(plan.is_git);
  CHECK(plan.base_commit == head);
  CHECK(plan.total_bytes > 0);

  CHECK(Run({"git", "rev-parse", "HEAD"}, g) == head);
  CHECK(Run({"git", "rev-list", "--count", "HEAD"}, g) == "10");
  CHECK(Run({"git", "symbolic-ref", "--short", "HEAD"}, g) == "main");
  CHECK(Run({"git", "config", std::string(kBaseCommitKey)}, g) == head);
  CHECK(Run({"git", "config", "remote.origin.url"}, g) == "https://example.com/app.git");
  CHECK(Run({"git", "config", "user.name"}, g) == "Repo Person");
  CHECK(Run({"git", "config", "user.email"}, g) == "person@example.com");
  // The host's changes are the guest's unstaged changes; ignored files stay home.
  CHECK(Run({"git", "status", "--porcelain"}, g) == " D gone.txt\n M tracked.txt\n?? new.txt");
  CHECK(*ReadFile(JoinPath(g, "tracked.txt")) == "modified\n");
  CHECK_FALSE(PathExists(JoinPath(g, "debug.log")));
  char target[64] = {};
  REQUIRE(readlink(JoinPath(g, "link").c_str(), target, sizeof target - 1) > 0);
  CHECK(std::string(target) == "tracked.txt");
  struct stat st;
  REQUIRE(stat(JoinPath(g, "tool.sh").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0755);
  CHECK(*ReadFile(JoinPath(g, "blob.bin")) == *ReadFile(JoinPath(fx.repo, "blob.bin")));
  // The submodule comes from the host's checkout, initialised.
  CHECK(*ReadFile(JoinPath(g, "sub/lib.txt")) == "library\n");
  CHECK(Run({"git", "rev-parse", "HEAD"}, JoinPath(g, "sub")) == Run({"git", "rev-parse", "HEAD"}, JoinPath(fx.repo, "sub")));
  CHECK(Run({"git", "config", "submodule.sub.url"}, g) == fx.sub_origin);
  CHECK(Run({"git", "submodule", "status"}, g).find('+') == std::string::npos);
}

TEST_CASE("full mode brings the whole history; --from gives that commit's files only") {
  Fixture fx;
  ImportOptions options;
  options.path = fx.repo;
  options.mode = CloneMode::kFull;
  CHECK(Run({"git", "rev-list", "--count", "HEAD"}, fx.Import(options)) == "13");

  options.mode = CloneMode::kShallow;
  options.from = "HEAD~1";
  ImportPlan plan;
  const std::string g = fx.Import(options, &plan);
  CHECK(plan.base_commit == Run({"git", "rev-parse", "HEAD~1"}, fx.repo));
  CHECK(Run({"git", "status", "--porcelain"}, g).empty());
  CHECK(*ReadFile(JoinPath(g, "history.txt")) == "11\n");
  CHECK_FALSE(PathExists(JoinPath(g, "tracked.txt")));
}

TEST_CASE("--branch and --from initialise submodules at the commit they record") {
  Fixture fx;
  const std::string sub = JoinPath(fx.repo, "sub");
  const std::string recorded = Run({"git", "rev-parse", "HEAD"}, sub);
  // The host's checkout moves on past what the branch records.
  Write(JoinPath(sub, "lib.txt"), "library 2\n");
  Run({"git", "commit", "-q", "-a", "-m", "lib 2"}, sub);
  for (bool by_branch : {true, false}) {
    ImportOptions options;
    options.path = fx.repo;
    (by_branch ? options.branch : options.from) = by_branch ? "main" : "HEAD";
    const std::string g = fx.Import(options);
    CHECK(*ReadFile(JoinPath(g, "sub/lib.txt")) == "library\n");
    CHECK(Run({"git", "rev-parse", "HEAD"}, JoinPath(g, "sub")) == recorded);
    CHECK(Run({"git", "config", "submodule.sub.url"}, g) == fx.sub_origin);
    // Initialised and at the recorded commit: no '+', '-' or 'U' in front.
    CHECK(Run({"git", "submodule", "status"}, g).rfind(" " + recorded + " sub", 0) == 0);
    CHECK(Run({"git", "status", "--porcelain"}, g).empty());
  }

  // A recorded commit the host's checkout does not have is named.
  Run({"git", "reset", "-q", "--hard", "HEAD~1"}, sub);
  Run({"git", "commit", "-q", "--amend", "-m", "lib rewritten"}, sub);
  Run({"git", "remote", "remove", "origin"}, sub);  // its remote-tracking ref names the commit too
  Run({"git", "reflog", "expire", "--expire=now", "--all"}, sub);
  Run({"git", "gc", "-q", "--prune=now"}, sub);
  ImportOptions options;
  options.path = fx.repo;
  options.from = "HEAD";
  auto missing = BuildImport(SystemRunner(), options, fx.dir.path());
  REQUIRE_FALSE(missing.ok());
  INFO(missing.error().message());
  CHECK(missing.error().code() == Code::kInvalidArgument);
  CHECK(missing.error().message().find("submodule 'sub': the host's checkout") != std::string::npos);
  CHECK(missing.error().message().find("lacks commit " + recorded.substr(0, 12)) != std::string::npos);
}

TEST_CASE("a ref is a branch when the repository has one of that name, else any commit") {
  Fixture fx;
  ImportOptions options;
  options.path = fx.repo;
  options.ref = "main";
  ImportPlan plan;
  std::string g = fx.Import(options, &plan);
  CHECK(Run({"git", "symbolic-ref", "--short", "HEAD"}, g) == "main");
  CHECK(plan.base_commit == Run({"git", "rev-parse", "main"}, fx.repo));
  options.ref = "main~1";  // resolves as a revision, but names no branch
  g = fx.Import(options, &plan);
  CHECK(plan.base_commit == Run({"git", "rev-parse", "main~1"}, fx.repo));
  CHECK(Run({"git", "rev-parse", "HEAD"}, g) == plan.base_commit);
  CHECK_FALSE(PathExists(JoinPath(g, "tracked.txt")));
}

TEST_CASE("a plain directory is copied as it is") {
  Fixture fx;
  const std::string plain = JoinPath(fx.dir.path(), "plain");
  REQUIRE(MakeDirs(JoinPath(plain, "a/b")).ok());
  Write(JoinPath(plain, "a/b/c.txt"), "c\n");
  ImportOptions options;
  options.path = plain;
  ImportPlan plan;
  const std::string g = fx.Import(options, &plan);
  CHECK_FALSE(plan.is_git);
  CHECK(plan.base_commit.empty());
  CHECK(*ReadFile(JoinPath(g, "a/b/c.txt")) == "c\n");
  CHECK_FALSE(PathExists(JoinPath(g, ".git")));
}

TEST_CASE("bad input is refused before anything is built") {
  Fixture fx;
  ImportOptions options;
  options.path = JoinPath(fx.dir.path(), "missing");
  auto missing = BuildImport(SystemRunner(), options, fx.dir.path());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == Code::kInvalidArgument);
  CHECK(missing.error().message().find("does not exist") != std::string::npos);

  options.path = JoinPath(fx.repo, "tracked.txt");
  auto file = BuildImport(SystemRunner(), options, fx.dir.path());
  REQUIRE_FALSE(file.ok());
  CHECK(file.error().message().find("is not a directory") != std::string::npos);

  options.path = fx.repo;
  options.from = "no-such-ref";
  auto ref = BuildImport(SystemRunner(), options, fx.dir.path());
  REQUIRE_FALSE(ref.ok());
  CHECK(ref.error().message().find("no commit 'no-such-ref'") != std::string::npos);

  options.from.clear();
  Write(JoinPath(fx.repo, "sub/lib.txt"), "changed\n");
  auto dirty = BuildImport(SystemRunner(), options, fx.dir.path());
  REQUIRE_FALSE(dirty.ok());
  CHECK(dirty.error().code() == Code::kInvalidArgument);
  CHECK(dirty.error().message().find("submodule 'sub' has uncommitted changes") != std::string::npos);
  // Nothing is left behind in the temp parent but the fixture's own files.
  auto names = ListDir(fx.dir.path());
  REQUIRE(names.ok());
  for (const auto& n : *names) CHECK(n.rfind("workspace-", 0) != 0);
}

}  // namespace
}  // namespace banger::workspace
