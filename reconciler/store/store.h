// The state db: durable intent and what the last apply converged.
//
// One SQLite file, <state_dir>/state.db, holds for each kernel, image,
// file_sync and VM the spec as last applied (canonical JSON, spec_json.h),
// who declared it (origin), and the durable facts of model/records.h; the
// applied [settings]; the VM address allocations; and a state serial. It
// never holds transient handles (PIDs, taps, sockets, loop devices): those
// are in handles.json files (handles_file.h).
//
// Durability: WAL journal, synchronous=FULL, foreign keys on. Every write is
// one BEGIN IMMEDIATE ... COMMIT transaction; a writer waits up to the busy
// timeout (5 s) for another process's write to finish, then fails with
// kBusy. Reads see one consistent snapshot.
//
// The serial increments by exactly one per committed Write that changed at
// least one row. A Write whose every Put matched what was stored (or that
// deleted only missing records) commits without a bump, so re-running a
// converged apply does not invalidate saved plans.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "reconciler/base/error.h"
#include "reconciler/model/records.h"
#include "reconciler/store/sqlite_db.h"
#include "specs/desired.h"

namespace banger::store {

// The operations of one write transaction, handed to the callback of
// Store::Write. Nothing is visible to other connections until the callback
// returns ok and the transaction commits; if the callback (or the commit)
// fails, every operation of the transaction is rolled back.
class StoreTxn {
 public:
  StoreTxn(const StoreTxn&) = delete;
  StoreTxn& operator=(const StoreTxn&) = delete;

  // Insert or replace by name (the record's spec.name). Fails with
  // kInvalidArgument for an empty name.
  Status PutKernel(const model::KernelRecord& record);
  Status PutImage(const model::ImageRecord& record);
  Status PutFileSync(const model::FileSyncRecord& record);
  // A VM's address is owned by the allocator, not by the record: record.ip
  // must be empty (keep whatever the VM holds) or equal to the address the
  // VM holds in this transaction; anything else fails with kInvalidArgument.
  // Load reports the held address in VmRecord::ip.
  Status PutVm(const model::VmRecord& record);
  Status PutSettings(const specs::Settings& settings);

  // Deleting a missing record is not an error (and changes nothing).
  // Deleting a VM releases its address.
  Status DeleteKernel(const std::string& name);
  Status DeleteImage(const std::string& name);
  Status DeleteFileSync(const std::string& name);
  Status DeleteVm(const std::string& name);

  // Snapshots (snapshot_txn.cc). PutSnapshot inserts or replaces by
  // record.meta.name; DeleteSnapshot fails with kFailedPrecondition while a
  // VM is restored from it. SetRestoredFrom records that `vm` (which must
  // exist) now runs on disks over `snapshot`'s files ("" clears it).
  Status PutSnapshot(const model::SnapshotRecord& record);
  Status DeleteSnapshot(const std::string& name);
  Status SetRestoredFrom(const std::string& vm, const std::string& snapshot);

  // The address of `vm_name` in `subnet_cidr`: the one it already holds when
  // that lies in the subnet, else the lowest free address (never the
  // network, broadcast or first host address, which is the bridge's). A held
  // address outside the subnet (the subnet changed) is replaced.
  // The reservation is durable on its own: it may be made before the VM
  // record exists (the VM boots with it) or in the same Write as PutVm, and
  // lasts until DeleteVm or ReleaseAddress. Fails with kInvalidArgument for
  // a bad subnet and kFailedPrecondition when the subnet is full.
  Result<std::string> AllocateAddress(const std::string& vm_name, const std::string& subnet_cidr);
  // Frees the VM's address; none held is not an error.
  Status ReleaseAddress(const std::string& vm_name);
  Result<std::optional<std::string>> AddressOf(const std::string& vm_name);

  // Everything as this transaction sees it (for read-modify-write); the
  // serial is the one before this transaction.
  Result<model::StoreSnapshot> Load();

 private:
  friend class Store;
  explicit StoreTxn(Database& db) : db_(db) {}
  // Runs a prepared write and records whether it changed a row.
  Status RunWrite(Statement& stmt);

  Database& db_;
  bool changed_ = false;
};

class Store {
 public:
  struct Options {
    int busy_timeout_ms = 5000;  // how long a write waits for another writer
  };

  // Opens <state_dir>/state.db, creating the directory (0700) and the file
  // when missing, and migrates it to this binary's schema. Fails with
  // kCorruption (naming the file) when it is not a banger state db or is
  // damaged, kFailedPrecondition when a newer banger wrote it, kIo or
  // kPermissionDenied when the OS refuses.
  static Result<std::unique_ptr<Store>> Open(const std::string& state_dir);
  static Result<std::unique_ptr<Store>> Open(const std::string& state_dir, Options options);

  const std::string& path() const { return db_.path(); }

  // Every record, the applied settings and the serial, from one snapshot.
  // A stored record that no longer decodes fails with kCorruption naming
  // the file, the kind and the name.
  Result<model::StoreSnapshot> Load();
  Result<int64_t> Serial();
  Result<std::optional<std::string>> AddressOf(const std::string& vm_name);

  // Runs `fn` inside one IMMEDIATE transaction and commits when it returns
  // ok; bumps the serial once if anything changed (see the file comment).
  // On any failure nothing is written and the error is returned. Write may
  // not be called from inside `fn` (kInternal).
  Status Write(const std::function<Status(StoreTxn&)>& fn);

  // Single-operation Writes.
  Status PutKernel(const model::KernelRecord& record);
  Status PutImage(const model::ImageRecord& record);
  Status PutFileSync(const model::FileSyncRecord& record);
  Status PutVm(const model::VmRecord& record);
  Status PutSettings(const specs::Settings& settings);
  Status DeleteKernel(const std::string& name);
  Status DeleteImage(const std::string& name);
  Status DeleteFileSync(const std::string& name);
  Status DeleteVm(const std::string& name);
  Status PutSnapshot(const model::SnapshotRecord& record);
  Status DeleteSnapshot(const std::string& name);
  Status SetRestoredFrom(const std::string& vm, const std::string& snapshot);
  // PutVm and SetRestoredFrom(record's name, restored_from) in one
  // transaction: a created VM and what its disks are over.
  Status PutCreatedVm(const model::VmRecord& record, const std::string& restored_from);
  Result<std::string> AllocateAddress(const std::string& vm_name, const std::string& subnet_cidr);
  Status ReleaseAddress(const std::string& vm_name);

 private:
  explicit Store(Database db) : db_(std::move(db)) {}

  Database db_;
  bool in_write_ = false;
};

}  // namespace banger::store
