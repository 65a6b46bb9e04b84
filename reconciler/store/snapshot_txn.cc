// The snapshot operations of StoreTxn: the snapshots table (one row per
// published snapshot, its metadata as canonical JSON) and vm_restores (which
// VMs run on disks over a snapshot's files).
#include "reconciler/store/record_codec.h"
#include "reconciler/store/store.h"

namespace banger::store {
namespace {

constexpr std::string_view kPutSnapshot =
    "INSERT INTO snapshots (name, origin, source_vm, dir, meta, created_unix) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT (name) DO UPDATE SET origin = excluded.origin, "
    "source_vm = excluded.source_vm, dir = excluded.dir, meta = excluded.meta, "
    "created_unix = excluded.created_unix "
    "WHERE (origin, source_vm, dir, meta, created_unix) IS NOT "
    "(excluded.origin, excluded.source_vm, excluded.dir, excluded.meta, excluded.created_unix)";

constexpr std::string_view kPutRestore =
    "INSERT INTO vm_restores (vm, snapshot) VALUES (?1, ?2) "
    "ON CONFLICT (vm) DO UPDATE SET snapshot = excluded.snapshot "
    "WHERE snapshot IS NOT excluded.snapshot";

}  // namespace

Status StoreTxn::PutSnapshot(const model::SnapshotRecord& record) {
  const std::string& name = record.meta.name;
  if (name.empty()) return InvalidArgument("store snapshot: empty name");
  const std::string what = RecordName("snapshot", name);
  BANGER_ASSIGN_OR_RETURN(std::string meta, EncodeJson(model::SnapshotMetaToJson(record.meta), what));
  BANGER_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db_, kPutSnapshot));
  stmt.Bind(1, name)
      .Bind(2, OriginText(record.origin))
      .Bind(3, record.meta.source_vm)
      .Bind(4, record.dir)
      .Bind(5, meta)
      .Bind(6, record.meta.created_unix);
  return RunWrite(stmt);
}

Status StoreTxn::DeleteSnapshot(const std::string& name) {
  BANGER_ASSIGN_OR_RETURN(
      Statement uses, Statement::Prepare(db_, "SELECT vm FROM vm_restores WHERE snapshot = ?1 ORDER BY vm"));
  uses.Bind(1, name);
  std::string vms;
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(bool row, uses.Step());
    if (!row) break;
    vms += (vms.empty() ? "" : ", ") + Quote(uses.ColumnText(0));
  }
  if (!vms.empty()) {
    return FailedPrecondition("snapshot " + Quote(name) + " is in use: vm " + vms +
                              " runs on disks restored from it");
  }
  BANGER_ASSIGN_OR_RETURN(Statement stmt,
                          Statement::Prepare(db_, "DELETE FROM snapshots WHERE name = ?1"));
  stmt.Bind(1, name);
  return RunWrite(stmt);
}

Status StoreTxn::SetRestoredFrom(const std::string& vm, const std::string& snapshot) {
  if (vm.empty()) return InvalidArgument("store vm_restores: empty vm name");
  if (snapshot.empty()) {
    BANGER_ASSIGN_OR_RETURN(Statement stmt,
                            Statement::Prepare(db_, "DELETE FROM vm_restores WHERE vm = ?1"));
    stmt.Bind(1, vm);
    return RunWrite(stmt);
  }
  BANGER_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db_, kPutRestore));
  stmt.Bind(1, vm).Bind(2, snapshot);
  Status st = RunWrite(stmt);
  if (!st.ok()) {
    return std::move(st).error().WithContext("record vm " + Quote(vm) + " as restored from snapshot " +
                                             Quote(snapshot));
  }
  return OkStatus();
}

}  // namespace banger::store
