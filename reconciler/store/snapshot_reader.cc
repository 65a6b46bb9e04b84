#include "reconciler/store/snapshot_reader.h"

#include "reconciler/store/record_codec.h"
#include "specs/spec_json.h"

namespace banger::store {

namespace {

Status ReadSettings(Database& db, model::StoreSnapshot& out) {
  BANGER_ASSIGN_OR_RETURN(Statement stmt,
                          Statement::Prepare(db, "SELECT spec FROM settings WHERE id = 1"));
  BANGER_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return OkStatus();
  BANGER_ASSIGN_OR_RETURN(nlohmann::json j, ParseStoredJson(stmt.ColumnText(0), "settings"));
  Result<specs::Settings> settings = specs::SettingsFromJson(j);
  if (!settings.ok()) return StoredRecordError("settings", settings.error().message());
  out.settings = std::move(settings).value();
  return OkStatus();
}

Status ReadKernels(Database& db, model::StoreSnapshot& out) {
  BANGER_ASSIGN_OR_RETURN(
      Statement stmt,
      Statement::Prepare(db, "SELECT name, spec, origin, digest, dir, version, created_unix "
                             "FROM kernels ORDER BY name"));
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return OkStatus();
    const std::string name = stmt.ColumnText(0);
    const std::string what = RecordName("kernel", name);
    model::KernelRecord r;
    BANGER_ASSIGN_OR_RETURN(r.spec, DecodeStoredSpec(stmt.ColumnText(1), "kernel", name,
                                                     &specs::KernelFromJson));
    BANGER_ASSIGN_OR_RETURN(r.origin, OriginFromText(stmt.ColumnText(2), what));
    r.digest = stmt.ColumnText(3);
    r.dir = stmt.ColumnText(4);
    r.version = stmt.ColumnText(5);
    r.created_unix = stmt.ColumnInt(6);
    out.kernels.emplace(name, std::move(r));
  }
}

Status ReadImages(Database& db, model::StoreSnapshot& out) {
  BANGER_ASSIGN_OR_RETURN(
      Statement stmt,
      Statement::Prepare(db, "SELECT name, spec, origin, digest, dir, rootfs_bytes, created_unix "
                             "FROM images ORDER BY name"));
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return OkStatus();
    const std::string name = stmt.ColumnText(0);
    const std::string what = RecordName("image", name);
    model::ImageRecord r;
    BANGER_ASSIGN_OR_RETURN(r.spec, DecodeStoredSpec(stmt.ColumnText(1), "image", name,
                                                     &specs::ImageFromJson));
    BANGER_ASSIGN_OR_RETURN(r.origin, OriginFromText(stmt.ColumnText(2), what));
    r.digest = stmt.ColumnText(3);
    r.dir = stmt.ColumnText(4);
    r.rootfs_bytes = static_cast<uint64_t>(stmt.ColumnInt(5));  // CHECK keeps it >= 0
    r.created_unix = stmt.ColumnInt(6);
    out.images.emplace(name, std::move(r));
  }
}

Status ReadFileSyncs(Database& db, model::StoreSnapshot& out) {
  BANGER_ASSIGN_OR_RETURN(
      Statement stmt, Statement::Prepare(db, "SELECT name, spec FROM file_syncs ORDER BY name"));
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return OkStatus();
    const std::string name = stmt.ColumnText(0);
    model::FileSyncRecord r;
    BANGER_ASSIGN_OR_RETURN(r.spec, DecodeStoredSpec(stmt.ColumnText(1), "file_sync", name,
                                                     &specs::FileSyncFromJson));
    out.file_syncs.emplace(name, std::move(r));
  }
}

Status ReadVms(Database& db, model::StoreSnapshot& out) {
  BANGER_ASSIGN_OR_RETURN(
      Statement stmt,
      Statement::Prepare(db,
                         "SELECT v.name, v.spec, v.origin, v.power, v.kernel_digest, "
                         "v.image_digest, v.synced, v.created_unix, a.ip "
                         "FROM vms v LEFT JOIN addresses a ON a.vm = v.name ORDER BY v.name"));
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return OkStatus();
    const std::string name = stmt.ColumnText(0);
    const std::string what = RecordName("vm", name);
    model::VmRecord r;
    BANGER_ASSIGN_OR_RETURN(r.spec,
                            DecodeStoredSpec(stmt.ColumnText(1), "vm", name, &specs::VmFromJson));
    BANGER_ASSIGN_OR_RETURN(r.origin, OriginFromText(stmt.ColumnText(2), what));
    BANGER_ASSIGN_OR_RETURN(r.power, PowerFromText(stmt.ColumnText(3), what));
    r.kernel_digest = stmt.ColumnText(4);
    r.image_digest = stmt.ColumnText(5);
    BANGER_ASSIGN_OR_RETURN(r.synced, DecodeSynced(stmt.ColumnText(6), what));
    r.created_unix = stmt.ColumnInt(7);
    r.ip = stmt.ColumnText(8);  // NULL (no address) reads as ""
    out.vms.emplace(name, std::move(r));
  }
}

Status ReadSnapshots(Database& db, model::StoreSnapshot& out) {
  BANGER_ASSIGN_OR_RETURN(
      Statement stmt,
      Statement::Prepare(db, "SELECT name, origin, dir, meta FROM snapshots ORDER BY name"));
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    const std::string name = stmt.ColumnText(0);
    const std::string what = RecordName("snapshot", name);
    model::SnapshotRecord r;
    BANGER_ASSIGN_OR_RETURN(r.origin, OriginFromText(stmt.ColumnText(1), what));
    r.dir = stmt.ColumnText(2);
    BANGER_ASSIGN_OR_RETURN(nlohmann::json j, ParseStoredJson(stmt.ColumnText(3), what));
    auto meta = model::SnapshotMetaFromJson(j);
    if (!meta.ok()) return StoredRecordError(what, meta.error().message());
    if (meta->name != name) return StoredRecordError(what, "metadata is named " + Quote(meta->name));
    r.meta = std::move(meta).value();
    out.snapshots.emplace(name, std::move(r));
  }
  BANGER_ASSIGN_OR_RETURN(
      Statement uses, Statement::Prepare(db, "SELECT vm, snapshot FROM vm_restores ORDER BY vm"));
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(bool row, uses.Step());
    if (!row) return OkStatus();
    out.restored_from.emplace(uses.ColumnText(0), uses.ColumnText(1));
  }
}

}  // namespace

Result<int64_t> ReadSerial(Database& db) {
  BANGER_ASSIGN_OR_RETURN(Statement stmt,
                          Statement::Prepare(db, "SELECT serial FROM state WHERE id = 1"));
  BANGER_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Error(Code::kCorruption, "state db " + Quote(db.path()) + ": serial row is missing");
  return stmt.ColumnInt(0);
}

Result<model::StoreSnapshot> ReadSnapshot(Database& db) {
  model::StoreSnapshot snap;
  Status st = [&]() -> Status {
    BANGER_ASSIGN_OR_RETURN(snap.serial, ReadSerial(db));
    BANGER_RETURN_IF_ERROR(ReadSettings(db, snap));
    BANGER_RETURN_IF_ERROR(ReadKernels(db, snap));
    BANGER_RETURN_IF_ERROR(ReadImages(db, snap));
    BANGER_RETURN_IF_ERROR(ReadFileSyncs(db, snap));
    BANGER_RETURN_IF_ERROR(ReadVms(db, snap));
    return ReadSnapshots(db, snap);
  }();
  if (!st.ok()) {
    Error e = std::move(st).error();
    // SQLite errors name the file already; decoding errors do not.
    if (e.code() == Code::kCorruption && e.message().find(Quote(db.path())) == std::string::npos)
      return std::move(e).WithContext("state db " + Quote(db.path()));
    return e;
  }
  return snap;
}

}  // namespace banger::store
