// apply::SnapshotStore over this host's snapshot store: the snapshots a
// spec declares (taken and removed by apply, recorded with origin spec)
// and the clones started from them.
//
// It writes the state db through its own connection: the executor runs
// steps on several threads, and the recorder's connection is serialized by
// the recorder. Locks follow snapshot_ops.h: the executor holds the VM's
// lock; this takes <state>/locks/snapshot-<name>.lock, exclusive to take or
// remove a snapshot, shared to clone from it (clones of one snapshot start
// in parallel).
#pragma once

#include <memory>
#include <mutex>

#include "reconciler/apply/effects.h"
#include "reconciler/os/file_lock.h"
#include "reconciler/snapshot/snapshot_service.h"
#include "reconciler/store/state_dir.h"
#include "reconciler/store/store.h"

namespace banger::cli {

class SpecSnapshots : public apply::SnapshotStore {
 public:
  // Opens a second connection to the state db of `paths`.
  static Result<std::unique_ptr<SpecSnapshots>> Open(const store::StatePaths& paths,
                                                     snapshot::SnapshotService& service);

  Status Take(const specs::SnapshotSpec& spec, const model::VmRecord& vm,
              apply::StepProgress& progress) override;
  Status Remove(const std::string& name) override;
  Status Clone(model::VmRecord& record, const apply::VmInputs& inputs,
               apply::StepProgress& progress) override;

 private:
  SpecSnapshots(store::StatePaths paths, snapshot::SnapshotService& service,
                std::unique_ptr<store::Store> store)
      : paths_(std::move(paths)), service_(service), store_(std::move(store)) {}
  Result<model::StoreSnapshot> Load();

  store::StatePaths paths_;
  snapshot::SnapshotService& service_;
  std::mutex mu_;  // over store_
  std::unique_ptr<store::Store> store_;
};

// <state>/locks/snapshot-<name>.lock, exclusive or shared.
Result<FileLock> LockSnapshotFile(const store::StatePaths& paths, const std::string& name,
                                  bool shared);

}  // namespace banger::cli
