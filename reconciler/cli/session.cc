#include "reconciler/cli/session.h"

#include <cstdlib>

#include "reconciler/image/file_image_store.h"
#include "reconciler/kernel/file_kernel_store.h"
#include "reconciler/observe/observer.h"
#include "reconciler/oci/oci_image_source.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"
#include "reconciler/plan/planner.h"

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
  return OkStatus();
}

Result<Session> OpenSession(const std::vector<std::string>& files) {
  Session s;
  s.specs = specs::ParseSpecFiles(files);
  if (!s.specs.ok()) return s;
  s.paths = store::StatePaths(store::StateDirFromProcess(s.specs.state.settings.state_dir));
  BANGER_RETURN_IF_ERROR(OpenStoreAndRuntime(s, s.specs.state.settings));
  specs::KnownObjects known;
  if (s.snapshot.ok()) {
    for (const auto& [name, _] : s.snapshot->images) known.images.insert(name);
    for (const auto& [name, _] : s.snapshot->kernels) known.kernels.insert(name);
  }
  specs::CheckReferences(&s.specs, known);
  return s;
}

Result<Session> OpenStateOnly(const std::string& state_dir_override) {
  Session s;
  s.paths = store::StatePaths(store::StateDirFromProcess(state_dir_override));
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
  plan::Observed observed = observe::Observe(session.snapshot, session.specs.state, deps);
  return plan::MakePlan(session.specs.state, observed, options);
}

}  // namespace banger::cli
