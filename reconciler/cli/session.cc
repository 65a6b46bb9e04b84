#include "reconciler/cli/session.h"

#include <cstdlib>

#include "reconciler/image/file_image_store.h"
#include "reconciler/kernel/file_kernel_store.h"
#include "reconciler/cli/snapshot_ops.h"
#include "reconciler/cli/spec_report.h"
#include "reconciler/observe/observer.h"
#include "reconciler/oci/oci_image_source.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"
#include "reconciler/plan/planner.h"
#include "reconciler/snapshot/snapshot_disks.h"

namespace banger::cli {

// Staging and temp directories of banger processes that died mid-build
// (SIGKILL, a crash). Best effort: a leftover that cannot be removed now
// must not stop the command, and live processes' directories are kept.
static void SweepLeftovers(const store::StatePaths& paths) {
  std::vector<std::string> staging = kernel::FileKernelStore::StagingPrefixes();
  for (auto& p : image::FileImageStore::StagingPrefixes()) staging.push_back(std::move(p));
  (void)SweepDeadOwners(paths.staging_dir(), staging);
  const std::string cache = store::CacheDirFromProcess();
  for (const char* sub : {"downloads", "debs"}) {
    (void)SweepDeadOwners(JoinPath(cache, sub), kernel::FileKernelStore::CachePrefixes());
  }
  const char* tmp = getenv("TMPDIR");
  (void)SweepDeadOwners(tmp && *tmp ? tmp : "/tmp", {kHostTempPrefix});
}

static Status OpenStoreAndRuntime(Session& s, const specs::Settings& settings) {
  BANGER_RETURN_IF_ERROR(MakeDirs(s.paths.root(), 0700));
  SweepLeftovers(s.paths);
  BANGER_ASSIGN_OR_RETURN(s.store, store::Store::Open(s.paths.root()));
  s.snapshot = s.store->Load();
  BANGER_ASSIGN_OR_RETURN(s.runtime, MakeRuntime(s.paths, settings));
  SweepSnapshotLeftovers(s);
  return OkStatus();
}

void AddStateOptions(CLI::App* cmd, StateArgs& args, bool short_f) {
  cmd->add_option(short_f ? "-f,--file" : "--file", args.files,
                  "spec file or directory whose settings.state_dir to use (repeatable)");
  AddStateDirOption(cmd, args.state_dir);
}

void AddStateDirOption(CLI::App* cmd, std::string& state_dir) {
  cmd->add_option("--state-dir", state_dir,
                  "state dir to use (before settings.state_dir, $BANGER_STATE_DIR, XDG)");
}

ResolvedStateDir ResolveStateDirFor(const std::string& flag, const specs::ParseOutcome& specs) {
  const std::string home = HomeDir();
  if (!flag.empty()) return {ExpandTilde(flag, home), "--state-dir"};
  const std::string& setting = specs.state.settings.state_dir;
  if (!setting.empty()) {
    std::string where = "the spec";
    auto loc = specs.locations.find("settings.state_dir");
    if (loc != specs.locations.end()) where = loc->second.ToString();
    return {ExpandTilde(setting, home), "settings.state_dir at " + where};
  }
  auto env = store::ProcessEnv();
  if (!env("BANGER_STATE_DIR").empty())
    return {store::ResolveStateDir("", env, home), "$BANGER_STATE_DIR"};
  return {store::ResolveStateDir("", env, home), "the default"};
}

Result<ResolvedStateDir> ResolveStateArgs(const StateArgs& args) {
  specs::ParseOutcome outcome;
  if (args.state_dir.empty() && !args.files.empty()) {
    outcome = specs::ParseSpecFiles(args.files);
    if (!outcome.ok()) {
      const size_t more = outcome.errors.size() - 1;
      return InvalidArgument(
          "-f: " + outcome.errors.front().ToString() +
          (more ? " (and " + std::to_string(more) + " more; `banger validate -f` lists them)"
                : ""));
    }
  }
  return ResolveStateDirFor(args.state_dir, outcome);
}

Result<Session> OpenSession(const std::vector<std::string>& files,
                            const std::string& state_dir_flag) {
  Session s;
  s.specs = specs::ParseSpecFiles(files);
  if (!s.specs.ok()) return s;
  ResolvedStateDir where = ResolveStateDirFor(state_dir_flag, s.specs);
  s.paths = store::StatePaths(where.dir);
  s.state_dir_source = where.source;
  BANGER_RETURN_IF_ERROR(OpenStoreAndRuntime(s, s.specs.state.settings));
  specs::KnownObjects known;
  if (s.snapshot.ok()) {
    for (const auto& [name, _] : s.snapshot->images) known.images.insert(name);
    for (const auto& [name, _] : s.snapshot->kernels) known.kernels.insert(name);
  }
  specs::CheckReferences(&s.specs, known);
  CheckCatalogNames(&s.specs);
  return s;
}

Result<Session> OpenState(const StateArgs& args) {
  BANGER_ASSIGN_OR_RETURN(ResolvedStateDir where, ResolveStateArgs(args));
  BANGER_ASSIGN_OR_RETURN(Session s, OpenStateDir(where.dir));
  s.state_dir_source = where.source;
  return s;
}

std::string DescribeStateDir(const Session& session) {
  std::string out = "state dir " + Quote(session.paths.root());
  if (!session.state_dir_source.empty()) out += " (" + session.state_dir_source + ")";
  return out;
}

Error NotFoundInState(const Session& session, std::string_view kind, const std::string& name) {
  return NotFound("no " + std::string(kind) + " " + Quote(name) + " in " +
                  DescribeStateDir(session));
}

Result<Session> OpenStateDir(const std::string& state_dir) {
  Session s;
  s.paths = store::StatePaths(state_dir);
  specs::Settings settings;
  BANGER_RETURN_IF_ERROR(OpenStoreAndRuntime(s, settings));
  if (s.snapshot.ok() && s.snapshot->settings) {
    // Imperative verbs act with the settings the last apply converged.
    BANGER_ASSIGN_OR_RETURN(s.runtime, MakeRuntime(s.paths, *s.snapshot->settings));
  }
  return s;
}

std::vector<std::string> VmsUsing(const model::StoreSnapshot& snap, const std::string& name,
                                  ArtifactKind kind) {
  std::vector<std::string> out;
  for (const auto& [vm, rec] : snap.vms)
    if ((kind == ArtifactKind::kKernel ? rec.spec.kernel : rec.spec.image) == name)
      out.push_back(vm);
  return out;
}

plan::Plan PlanSession(Session& session, const plan::PlanOptions& options) {
  observe::ObserverDeps deps;
  deps.kernels = session.runtime.kernels.get();
  deps.images = session.runtime.images.get();
  deps.vms = session.runtime.vms.get();
  deps.home = HomeDir();
  deps.remote_digest = oci::CurrentManifestDigest;
  deps.snapshot_present = snapshot::SnapshotFilesPresent;
  plan::Observed observed = observe::Observe(session.snapshot, session.specs.state, deps);
  plan::Plan p = plan::MakePlan(session.specs.state, observed, options);
  return p;
}

}  // namespace banger::cli
