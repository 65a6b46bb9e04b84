// The flow every engine verb shares: read the spec files, find and open the
// state dir, check references against the store, observe, plan. No output:
// verbs render what this returns.
#pragma once

#include <memory>
#include <string_view>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "reconciler/apply/effects.h"
#include "reconciler/plan/observed.h"
#include "reconciler/plan/plan.h"
#include "reconciler/store/state_dir.h"
#include "reconciler/store/store.h"
#include "specs/loader.h"

namespace banger::kernel { class FileKernelStore; }
namespace banger::image { class FileImageStore; }
namespace banger::access { class SshGuestAccess; }
namespace banger::runtime { class LocalVmRuntime; }
namespace banger::snapshot { class SnapshotService; }

namespace banger::cli {

// The real effect implementations for one state dir.
struct Runtime {
  std::unique_ptr<apply::KernelStore> kernels;
  kernel::FileKernelStore* kernel_store = nullptr;  // `kernels`, for list/show
  image::FileImageStore* image_store = nullptr;     // `images`, for list/show
  access::SshGuestAccess* ssh = nullptr;            // owned by `vms`
  std::unique_ptr<apply::ImageStore> images;
  std::unique_ptr<apply::VmRuntime> vms;
  runtime::LocalVmRuntime* local_vms = nullptr;     // `vms`, for snapshots
  std::shared_ptr<snapshot::SnapshotService> snapshots;  // over `local_vms`
};

// Builds the runtime for a state dir and settings (see runtime_factory.cc).
Result<Runtime> MakeRuntime(const store::StatePaths& paths, const specs::Settings& settings);

struct Session {
  specs::ParseOutcome specs;          // errors: the plan must not go on
  store::StatePaths paths{""};
  std::string state_dir_source;       // the rule that chose paths.root()
  std::unique_ptr<store::Store> store;
  Result<model::StoreSnapshot> snapshot = Error(Code::kInternal, "not read");
  Runtime runtime;
};

// Where a verb finds its state dir. One precedence for every verb:
// --state-dir, then settings.state_dir of the -f specs, then
// $BANGER_STATE_DIR, then $XDG_STATE_HOME/banger (~/.local/state/banger).
struct StateArgs {
  std::vector<std::string> files;  // -f: read for settings.state_dir only
  std::string state_dir;           // --state-dir
};

// Adds `-f FILE|DIR` and `--state-dir DIR` to a verb that reads state
// without applying a spec.
// `vm logs` passes short_f = false: there -f is --follow, as in tail,
// journalctl and docker, and the spec option is --file only.
void AddStateOptions(CLI::App* cmd, StateArgs& args, bool short_f = true);
// Adds `--state-dir DIR` alone (verbs whose -f is their spec).
void AddStateDirOption(CLI::App* cmd, std::string& state_dir);

struct ResolvedStateDir {
  std::string dir;
  std::string source;  // which rule chose it: "--state-dir", "settings.state_dir in F", ...
};

// Applies the precedence above. Spec files that do not parse are an error
// (naming the first problem), since the state dir they name is unknown.
Result<ResolvedStateDir> ResolveStateArgs(const StateArgs& args);
// The same precedence for specs already parsed.
ResolvedStateDir ResolveStateDirFor(const std::string& flag, const specs::ParseOutcome& specs);

// Parses `files`, resolves the state dir (`state_dir_flag`, then
// settings.state_dir, then the environment) and opens its store. Spec
// problems are in session.specs.errors; an Error is returned only when the
// store cannot be opened.
Result<Session> OpenSession(const std::vector<std::string>& files,
                            const std::string& state_dir_flag = "");

// Opens the store of the state dir alone (imperative verbs without specs).
Result<Session> OpenState(const StateArgs& args);
Result<Session> OpenStateDir(const std::string& state_dir);

// "no vm 'web' in state dir '/x' (chosen by --state-dir)": not-found errors
// name where banger looked, since a wrong state dir is the usual cause.
Error NotFoundInState(const Session& session, std::string_view kind, const std::string& name);
// "state dir '/x' (chosen by ...)".
std::string DescribeStateDir(const Session& session);

// Rewrites banger's ssh client config from the VMs in the store.
Status RefreshSshConfig(Session& session);

enum class ArtifactKind { kKernel, kImage };

// The VMs whose records boot from the kernel or image `name`.
std::vector<std::string> VmsUsing(const model::StoreSnapshot& snap, const std::string& name,
                                  ArtifactKind kind);

// Observes and plans.
plan::Plan PlanSession(Session& session, const plan::PlanOptions& options);

}  // namespace banger::cli
