-- The SQLite schema of <state_dir>/state.db after every migration in
-- reconciler/store/migrations.cc has run. A test compares this file with what
-- SQLite reports for a freshly migrated database, so the two cannot drift.
--
-- The store holds durable intent and what the last apply converged. Transient
-- handles of running VMs (PIDs, taps, sockets) live in handles.json files,
-- never here. Applied specs are the canonical JSON of specs/spec_json.h.

PRAGMA application_id = 1650552423;  -- 'bang'
PRAGMA user_version = 2;

-- One row: the serial increments on every committed change, so a saved plan
-- can be refused when the state moved on.
CREATE TABLE state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  serial INTEGER NOT NULL CHECK (serial >= 0)
) STRICT;

-- At most one row: the [settings] as last applied.
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

-- synced: JSON object, file_sync entry name -> digest of the content last
-- copied into the guest.
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

-- One address per VM name, never two VMs per address. No foreign key to
-- vms: apply reserves the address before the VM exists (it boots with it),
-- so a retried create after a crash gets the same one. Deleting the VM
-- record or releasing the reservation frees it.
CREATE TABLE addresses (
  ip TEXT NOT NULL PRIMARY KEY,
  vm TEXT NOT NULL UNIQUE
) STRICT;

-- Snapshots of VMs (version 2). meta: the JSON of model/snapshot_meta.h,
-- the same as <dir>/meta.json; dir: <state>/snapshots/<name>.
CREATE TABLE snapshots (
  name TEXT NOT NULL PRIMARY KEY,
  origin TEXT NOT NULL CHECK (origin IN ('spec', 'cli')),
  source_vm TEXT NOT NULL,
  dir TEXT NOT NULL,
  meta TEXT NOT NULL,
  created_unix INTEGER NOT NULL
) STRICT;

-- A VM whose disks are copy-on-write over a snapshot's files. Deleting the
-- VM drops the row; a snapshot with rows cannot be deleted.
CREATE TABLE vm_restores (
  vm TEXT NOT NULL PRIMARY KEY REFERENCES vms (name) ON DELETE CASCADE,
  snapshot TEXT NOT NULL REFERENCES snapshots (name)
) STRICT;
