// The narrow interfaces through which the executor changes the world.
//
// Each has a real implementation (kernel store, image store, VM runtime) and
// recording fakes in tests. The executor never touches the OS itself: it
// decides which of these calls to make, in which order, and records in the
// store what converged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/model/handles.h"
#include "reconciler/model/records.h"
#include "specs/desired.h"

namespace banger::apply {

// Where a step reports what it is doing ("downloading 12/26 MiB").
class StepProgress {
 public:
  virtual ~StepProgress() = default;
  virtual void Note(std::string_view message) = 0;
  // A transfer moved on (a download, an image layer): `item` names it,
  // `total` is 0 when unknown. Line-based renderers ignore it; a terminal
  // draws per-item bytes, rate and ETA from these.
  virtual void Bytes(std::string_view item, uint64_t done, uint64_t total) {
    (void)item, (void)done, (void)total;
  }
};

class NullProgress : public StepProgress {
 public:
  void Note(std::string_view) override {}
};

class KernelStore {
 public:
  virtual ~KernelStore() = default;
  // Fetches/builds the kernel, stores it content-addressed and returns its
  // record (origin kSpec; the caller records it in SQLite). On failure
  // nothing is left in the store.
  virtual Result<model::KernelRecord> Build(const specs::KernelSpec& spec,
                                            const specs::Settings& settings,
                                            StepProgress& progress) = 0;
  // Deletes the record's files. The caller guarantees no other record shares
  // its digest.
  virtual Status Remove(const model::KernelRecord& record) = 0;
  // Whether the record's files are all present (observation).
  virtual bool Present(const model::KernelRecord& record) = 0;
};

class ImageStore {
 public:
  virtual ~ImageStore() = default;
  // Builds the image in staging and publishes it with one rename; on failure
  // nothing is published or left staged.
  virtual Result<model::ImageRecord> Build(const specs::ImageSpec& spec,
                                           StepProgress& progress) = 0;
  virtual Status Remove(const model::ImageRecord& record) = 0;
  virtual bool Present(const model::ImageRecord& record) = 0;
};

// What a VM boots from, resolved by the executor.
struct VmInputs {
  model::KernelRecord kernel;
  model::ImageRecord image;
  std::vector<specs::FileSyncSpec> file_syncs;  // the entries the VM references
  specs::Settings settings;
};

class VmRuntime {
 public:
  virtual ~VmRuntime() = default;
  // Creates disks, network and the VMM process and waits until the guest is
  // ready. Fills durable fields of `record` (ip, digests, synced). On failure
  // everything it made is removed again.
  virtual Status Create(model::VmRecord& record, const VmInputs& inputs,
                        StepProgress& progress) = 0;
  // Boots a VM whose disks exist (after stop, or to apply a restart-class
  // change such as memory, or to repair a dead process). Grows the work disk
  // when record.spec.disk asks for more.
  virtual Status Start(model::VmRecord& record, const VmInputs& inputs,
                       StepProgress& progress) = 0;
  // Graceful shutdown, then kill after a timeout. A stopped VM is fine.
  virtual Status Stop(const model::VmRecord& record, StepProgress& progress) = 0;
  // Stops and removes everything of the VM; keeps the work disk when asked
  // (replace) so Create picks it up again.
  virtual Status Destroy(const model::VmRecord& record, bool keep_work_disk,
                         StepProgress& progress) = 0;
  // Applies live changes (nat, file_sync, labels, workspace) to a running
  // VM. Create imports a declared workspace once the guest is ready (a
  // /root/repo on a kept work disk stays); an Update of "workspace"
  // replaces the guest's /root/repo with a fresh import.
  virtual Status Update(model::VmRecord& record, const VmInputs& inputs,
                        const std::vector<std::string>& fields,
                        StepProgress& progress) = 0;
  // Reads the VM's handles and checks them against the OS. Fails only when
  // the handles exist but cannot be read (observation is then incomplete).
  virtual Result<model::VmLiveness> Observe(const std::string& name) = 0;
};

// The snapshot store, as apply uses it: the snapshots [[snapshot]] tables
// declare (recorded by the store itself, as taken by a spec) and the clones
// started from them.
class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;
  // Saves the running VM's memory, device state and disks as the snapshot
  // `spec` names, published whole or not at all; the VM runs on afterwards.
  // The caller holds the source VM's lock.
  virtual Status Take(const specs::SnapshotSpec& spec, const model::VmRecord& vm,
                      StepProgress& progress) = 0;
  // Removes the snapshot; a missing one is not an error, one a VM is
  // restored from is (kFailedPrecondition).
  virtual Status Remove(const std::string& name) = 0;
  // Creates the VM `record` (its spec's from_snapshot names the snapshot)
  // by restoring that snapshot onto its own copy-on-write disks, tap and
  // address, then giving the guest its own identity. Fills what Create
  // fills; on failure nothing of the VM is left. The caller holds the VM's
  // lock and records the VM as restored from the snapshot.
  virtual Status Clone(model::VmRecord& record, const VmInputs& inputs,
                       StepProgress& progress) = 0;
};

// Durable bookkeeping the executor does after each converged step. The real
// implementation writes SQLite (one transaction per call, bumping the state
// serial); tests use an in-memory one that can fail on demand.
class StateRecorder {
 public:
  virtual ~StateRecorder() = default;
  virtual Status RecordSettings(const specs::Settings& settings) = 0;
  virtual Status RecordKernel(const model::KernelRecord& record) = 0;
  virtual Status ForgetKernel(const std::string& name) = 0;
  virtual Status RecordImage(const model::ImageRecord& record) = 0;
  virtual Status ForgetImage(const std::string& name) = 0;
  virtual Status RecordFileSync(const model::FileSyncRecord& record) = 0;
  virtual Status ForgetFileSync(const std::string& name) = 0;
  virtual Status RecordVm(const model::VmRecord& record) = 0;
  // A VM just created (or re-created by a replace): its record and, in the
  // same transaction, the snapshot its disks were restored from ("" for a
  // booted VM, which clears what a replaced clone had).
  virtual Status RecordCreatedVm(const model::VmRecord& record,
                                 const std::string& restored_from) = 0;
  // Also releases the VM's address.
  virtual Status ForgetVm(const std::string& name) = 0;
  // A stable address for the VM from the subnet (the same one on every call
  // until the VM is forgotten).
  virtual Result<std::string> AllocateAddress(const std::string& vm,
                                              const std::string& subnet) = 0;
  virtual Status ReleaseAddress(const std::string& vm) = 0;
};

}  // namespace banger::apply
