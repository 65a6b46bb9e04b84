// Observation: the store's records plus what the OS says now, gathered into
// plan::Observed for the pure planner. Failures to read are recorded, not
// fatal: the planner then plans no deletions.
#pragma once

#include <functional>
#include <string>

#include "reconciler/apply/effects.h"
#include "reconciler/plan/observed.h"
#include "specs/desired.h"

namespace banger::observe {

struct ObserverDeps {
  apply::KernelStore* kernels = nullptr;
  apply::ImageStore* images = nullptr;
  apply::VmRuntime* vms = nullptr;
  // Whether a recorded snapshot's files are there; unset: all are.
  std::function<bool(const model::SnapshotRecord&)> snapshot_present;
  // The digest an OCI tag resolves to now (for drift); "" when the
  // reference cannot drift (a digest); unset: not checked.
  std::function<Result<std::string>(const specs::ImageSpec&)> remote_digest;
  // The user's home, for `~` in file_sync host paths.
  std::string home;
};

// `snapshot` is the store read (or its error).
plan::Observed Observe(Result<model::StoreSnapshot> snapshot,
                       const specs::DesiredState& desired, const ObserverDeps& deps);

// sha256 over a host file or directory tree (relative paths, types, modes
// and contents, in name order); "" when the path does not exist.
Result<std::string> DigestHostPath(const std::string& path);

}  // namespace banger::observe
