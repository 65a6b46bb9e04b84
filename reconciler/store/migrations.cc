#include "reconciler/store/migrations.h"

#include <string>

namespace banger::store {

namespace {

// Version 1: the tables of schemas/store.sql. Statements are kept in the same
// words as that file; SQLite stores CREATE text verbatim, which is what the
// schema agreement test compares.
constexpr std::string_view kInitialSchema = R"sql(
PRAGMA application_id = 1650552423;
CREATE TABLE state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  serial INTEGER NOT NULL CHECK (serial >= 0)
) STRICT;
INSERT INTO state (id, serial) VALUES (1, 0);
CREATE TABLE settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  spec TEXT NOT NULL
) STRICT;
CREATE TABLE kernels (
  name TEXT NOT NULL PRIMARY KEY,
  spec TEXT NOT NULL,
  origin TEXT NOT NULL CHECK (origin IN ('spec', 'cli')),
  digest TEXT NOT NULL,
  dir TEXT NOT NULL,
  version TEXT NOT NULL,
  created_unix INTEGER NOT NULL
) STRICT;
CREATE TABLE images (
  name TEXT NOT NULL PRIMARY KEY,
  spec TEXT NOT NULL,
  origin TEXT NOT NULL CHECK (origin IN ('spec', 'cli')),
  digest TEXT NOT NULL,
  dir TEXT NOT NULL,
  rootfs_bytes INTEGER NOT NULL CHECK (rootfs_bytes >= 0),
  created_unix INTEGER NOT NULL
) STRICT;
CREATE TABLE file_syncs (
  name TEXT NOT NULL PRIMARY KEY,
  spec TEXT NOT NULL
) STRICT;
CREATE TABLE vms (
  name TEXT NOT NULL PRIMARY KEY,
  spec TEXT NOT NULL,
  origin TEXT NOT NULL CHECK (origin IN ('spec', 'cli')),
  power TEXT NOT NULL CHECK (power IN ('running', 'stopped')),
  kernel_digest TEXT NOT NULL,
  image_digest TEXT NOT NULL,
  synced TEXT NOT NULL,
  created_unix INTEGER NOT NULL
) STRICT;
CREATE TABLE addresses (
  ip TEXT NOT NULL PRIMARY KEY,
  vm TEXT NOT NULL UNIQUE
) STRICT;
)sql";

// Version 2: snapshots (<state>/snapshots/<name>/, meta: the JSON of
// model/snapshot_meta.h) and which VMs run on disks restored from one.
constexpr std::string_view kSnapshots = R"sql(
CREATE TABLE snapshots (
  name TEXT NOT NULL PRIMARY KEY,
  origin TEXT NOT NULL CHECK (origin IN ('spec', 'cli')),
  source_vm TEXT NOT NULL,
  dir TEXT NOT NULL,
  meta TEXT NOT NULL,
  created_unix INTEGER NOT NULL
) STRICT;
CREATE TABLE vm_restores (
  vm TEXT NOT NULL PRIMARY KEY REFERENCES vms (name) ON DELETE CASCADE,
  snapshot TEXT NOT NULL REFERENCES snapshots (name)
) STRICT;
)sql";

Status ApplyStep(Database& db, const Migration& step) {
  BANGER_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db, /*immediate=*/true));
  // Read inside the write lock: another process may have migrated while
  // this one waited for it.
  BANGER_ASSIGN_OR_RETURN(int64_t current, db.PragmaInt("user_version"));
  if (current >= step.version) return OkStatus();
  BANGER_RETURN_IF_ERROR(db.Exec(step.sql));
  BANGER_RETURN_IF_ERROR(db.Exec("PRAGMA user_version = " + std::to_string(step.version)));
  return txn.Commit();
}

}  // namespace

const std::vector<Migration>& StoreMigrations() {
  static const std::vector<Migration> steps = {
      {1, "create the initial schema", kInitialSchema},
      {2, "add snapshots and the VMs restored from them", kSnapshots},
  };
  return steps;
}

Status Migrate(Database& db, const std::vector<Migration>& steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].version != static_cast<int>(i) + 1)
      return Internal("migration steps are not numbered 1..N at step " + std::to_string(i));
  }
  const int latest = static_cast<int>(steps.size());
  BANGER_ASSIGN_OR_RETURN(int64_t version, db.PragmaInt("user_version"));
  if (version > latest) {
    return FailedPrecondition("state db " + Quote(db.path()) + " has schema version " +
                              std::to_string(version) + " but this banger knows versions up to " +
                              std::to_string(latest) +
                              "; it was written by a newer banger, so use that one");
  }
  for (const Migration& step : steps) {
    if (step.version <= version) continue;
    Status st = ApplyStep(db, step);
    if (!st.ok()) {
      return std::move(st).error().WithContext("migrate state db to version " +
                                               std::to_string(step.version) + " (" +
                                               std::string(step.summary) + ")");
    }
  }
  return OkStatus();
}

}  // namespace banger::store
