// The flow every engine verb shares: read the spec files, find and open the
// state dir, check references against the store, observe, plan. No output:
// verbs render what this returns.
#pragma once

#include <memory>
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

namespace banger::cli {

// The real effect implementations for one state dir.
struct Runtime {
  std::unique_ptr<apply::KernelStore> kernels;
  kernel::FileKernelStore* kernel_store = nullptr;  // `kernels`, for list/show
  image::FileImageStore* image_store = nullptr;     // `images`, for list/show
  access::SshGuestAccess* ssh = nullptr;            // owned by `vms`
  std::unique_ptr<apply::ImageStore> images;
  std::unique_ptr<apply::VmRuntime> vms;
};

// Builds the runtime for a state dir and settings (see runtime_factory.cc).
Result<Runtime> MakeRuntime(const store::StatePaths& paths, const specs::Settings& settings);

struct Session {
  specs::ParseOutcome specs;          // errors: the plan must not go on
  store::StatePaths paths{""};
  std::unique_ptr<store::Store> store;
  Result<model::StoreSnapshot> snapshot = Error(Code::kInternal, "not read");
  Runtime runtime;
};

// Parses `files`, resolves the state dir (settings.state_dir or the
// default) and opens its store. Spec problems are in session.specs.errors;
// an Error is returned only when the store cannot be opened.
Result<Session> OpenSession(const std::vector<std::string>& files);

// Opens the store of the state dir alone (imperative verbs without specs).
Result<Session> OpenStateOnly(const std::string& state_dir_override = "");

// Rewrites banger's ssh client config from the VMs in the store.
Status RefreshSshConfig(Session& session);

enum class ArtifactKind { kKernel, kImage };

// The VMs whose records boot from the kernel or image `name`.
std::vector<std::string> VmsUsing(const model::StoreSnapshot& snap, const std::string& name,
                                  ArtifactKind kind);

// Observes and plans.
plan::Plan PlanSession(Session& session, const plan::PlanOptions& options);

}  // namespace banger::cli
