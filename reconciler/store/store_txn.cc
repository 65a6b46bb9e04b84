// The write operations of StoreTxn. Each Put is an upsert whose UPDATE only
// fires when a column differs, so the changed-row count tells the Write
// whether the serial must move.
#include <limits>
#include <set>

#include "reconciler/store/address_pool.h"
#include "reconciler/store/record_codec.h"
#include "reconciler/store/snapshot_reader.h"
#include "reconciler/store/store.h"
#include "specs/spec_json.h"

namespace banger::store {

namespace {

Status CheckName(std::string_view kind, const std::string& name) {
  if (name.empty()) return InvalidArgument("store " + std::string(kind) + ": empty name");
  return OkStatus();
}

constexpr std::string_view kPutKernel =
    "INSERT INTO kernels (name, spec, origin, digest, dir, version, created_unix) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, origin = excluded.origin, "
    "digest = excluded.digest, dir = excluded.dir, version = excluded.version, "
    "created_unix = excluded.created_unix "
    "WHERE (spec, origin, digest, dir, version, created_unix) IS NOT "
    "(excluded.spec, excluded.origin, excluded.digest, excluded.dir, excluded.version, "
    "excluded.created_unix)";

constexpr std::string_view kPutImage =
    "INSERT INTO images (name, spec, origin, digest, dir, rootfs_bytes, created_unix) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, origin = excluded.origin, "
    "digest = excluded.digest, dir = excluded.dir, rootfs_bytes = excluded.rootfs_bytes, "
    "created_unix = excluded.created_unix "
    "WHERE (spec, origin, digest, dir, rootfs_bytes, created_unix) IS NOT "
    "(excluded.spec, excluded.origin, excluded.digest, excluded.dir, excluded.rootfs_bytes, "
    "excluded.created_unix)";

constexpr std::string_view kPutFileSync =
    "INSERT INTO file_syncs (name, spec) VALUES (?1, ?2) "
    "ON CONFLICT (name) DO UPDATE SET spec = excluded.spec WHERE spec IS NOT excluded.spec";

constexpr std::string_view kPutVm =
    "INSERT INTO vms (name, spec, origin, power, kernel_digest, image_digest, synced, "
    "created_unix) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, origin = excluded.origin, "
    "power = excluded.power, kernel_digest = excluded.kernel_digest, "
    "image_digest = excluded.image_digest, synced = excluded.synced, "
    "created_unix = excluded.created_unix "
    "WHERE (spec, origin, power, kernel_digest, image_digest, synced, created_unix) IS NOT "
    "(excluded.spec, excluded.origin, excluded.power, excluded.kernel_digest, "
    "excluded.image_digest, excluded.synced, excluded.created_unix)";

constexpr std::string_view kPutSettings =
    "INSERT INTO settings (id, spec) VALUES (1, ?1) "
    "ON CONFLICT (id) DO UPDATE SET spec = excluded.spec WHERE spec IS NOT excluded.spec";

}  // namespace

Status StoreTxn::RunWrite(Statement& stmt) {
  BANGER_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() > 0) changed_ = true;
  return OkStatus();
}

Status StoreTxn::PutKernel(const model::KernelRecord& r) {
  BANGER_RETURN_IF_ERROR(CheckName("kernel", r.spec.name));
  const std::string what = RecordName("kernel", r.spec.name);
  BANGER_ASSIGN_OR_RETURN(std::string spec, EncodeJson(specs::ToJson(r.spec), what));
  BANGER_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db_, kPutKernel));
  stmt.Bind(1, r.spec.name).Bind(2, spec).Bind(3, OriginText(r.origin)).Bind(4, r.digest);
  stmt.Bind(5, r.dir).Bind(6, r.version).Bind(7, r.created_unix);
  return RunWrite(stmt);
}

Status StoreTxn::PutImage(const model::ImageRecord& r) {
  BANGER_RETURN_IF_ERROR(CheckName("image", r.spec.name));
  const std::string what = RecordName("image", r.spec.name);
  if (r.rootfs_bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return InvalidArgument("store " + what + ": rootfs size " + std::to_string(r.rootfs_bytes) +
                           " is out of range");
  BANGER_ASSIGN_OR_RETURN(std::string spec, EncodeJson(specs::ToJson(r.spec), what));
  BANGER_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db_, kPutImage));
  stmt.Bind(1, r.spec.name).Bind(2, spec).Bind(3, OriginText(r.origin)).Bind(4, r.digest);
  stmt.Bind(5, r.dir).Bind(6, static_cast<int64_t>(r.rootfs_bytes)).Bind(7, r.created_unix);
  return RunWrite(stmt);
}

Status StoreTxn::PutFileSync(const model::FileSyncRecord& r) {
  BANGER_RETURN_IF_ERROR(CheckName("file_sync", r.spec.name));
  const std::string what = RecordName("file_sync", r.spec.name);
  BANGER_ASSIGN_OR_RETURN(std::string spec, EncodeJson(specs::ToJson(r.spec), what));
  BANGER_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db_, kPutFileSync));
  stmt.Bind(1, r.spec.name).Bind(2, spec);
  return RunWrite(stmt);
}

Status StoreTxn::PutVm(const model::VmRecord& r) {
  BANGER_RETURN_IF_ERROR(CheckName("vm", r.spec.name));
  const std::string what = RecordName("vm", r.spec.name);
  if (!r.ip.empty()) {
    BANGER_ASSIGN_OR_RETURN(std::optional<std::string> owned, AddressOf(r.spec.name));
    if (owned != r.ip) {
      return InvalidArgument("store " + what + ": record carries address " + Quote(r.ip) +
                             (owned ? " but the vm holds " + Quote(*owned)
                                    : std::string(" but the vm holds none")) +
                             "; addresses come from AllocateAddress");
    }
  }
  BANGER_ASSIGN_OR_RETURN(std::string spec, EncodeJson(specs::ToJson(r.spec), what));
  BANGER_ASSIGN_OR_RETURN(std::string synced, EncodeJson(nlohmann::json(r.synced), what));
  BANGER_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db_, kPutVm));
  stmt.Bind(1, r.spec.name).Bind(2, spec).Bind(3, OriginText(r.origin));
  stmt.Bind(4, PowerText(r.power)).Bind(5, r.kernel_digest).Bind(6, r.image_digest);
  stmt.Bind(7, synced).Bind(8, r.created_unix);
  return RunWrite(stmt);
}

Status StoreTxn::PutSettings(const specs::Settings& settings) {
  BANGER_ASSIGN_OR_RETURN(std::string spec, EncodeJson(specs::ToJson(settings), "settings"));
  BANGER_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db_, kPutSettings));
  stmt.Bind(1, spec);
  return RunWrite(stmt);
}

Status StoreTxn::DeleteKernel(const std::string& name) {
  BANGER_ASSIGN_OR_RETURN(Statement stmt,
                          Statement::Prepare(db_, "DELETE FROM kernels WHERE name = ?1"));
  stmt.Bind(1, name);
  return RunWrite(stmt);
}

Status StoreTxn::DeleteImage(const std::string& name) {
  BANGER_ASSIGN_OR_RETURN(Statement stmt,
                          Statement::Prepare(db_, "DELETE FROM images WHERE name = ?1"));
  stmt.Bind(1, name);
  return RunWrite(stmt);
}

Status StoreTxn::DeleteFileSync(const std::string& name) {
  BANGER_ASSIGN_OR_RETURN(Statement stmt,
                          Statement::Prepare(db_, "DELETE FROM file_syncs WHERE name = ?1"));
  stmt.Bind(1, name);
  return RunWrite(stmt);
}

Status StoreTxn::DeleteVm(const std::string& name) {
  BANGER_RETURN_IF_ERROR(ReleaseAddress(name));
  BANGER_ASSIGN_OR_RETURN(Statement stmt,
                          Statement::Prepare(db_, "DELETE FROM vms WHERE name = ?1"));
  stmt.Bind(1, name);
  return RunWrite(stmt);
}

Status StoreTxn::ReleaseAddress(const std::string& vm_name) {
  BANGER_ASSIGN_OR_RETURN(Statement stmt,
                          Statement::Prepare(db_, "DELETE FROM addresses WHERE vm = ?1"));
  stmt.Bind(1, vm_name);
  return RunWrite(stmt);
}

Result<std::optional<std::string>> StoreTxn::AddressOf(const std::string& vm_name) {
  BANGER_ASSIGN_OR_RETURN(Statement stmt,
                          Statement::Prepare(db_, "SELECT ip FROM addresses WHERE vm = ?1"));
  stmt.Bind(1, vm_name);
  BANGER_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt.ColumnText(0));
}

Result<std::string> StoreTxn::AllocateAddress(const std::string& vm_name,
                                              const std::string& subnet_cidr) {
  BANGER_RETURN_IF_ERROR(CheckName("vm", vm_name));
  const std::string context = "allocate address for " + RecordName("vm", vm_name);
  Result<Ipv4Subnet> subnet = ParseSubnet(subnet_cidr);
  if (!subnet.ok()) return std::move(subnet).error().WithContext(context);

  BANGER_ASSIGN_OR_RETURN(std::optional<std::string> owned, AddressOf(vm_name));
  if (owned) {
    Result<uint32_t> addr = ParseIpv4(*owned);
    if (addr.ok() && IsVmAddress(*subnet, *addr)) return *owned;
  }

  std::set<uint32_t> taken;
  BANGER_ASSIGN_OR_RETURN(Statement others,
                          Statement::Prepare(db_, "SELECT ip FROM addresses WHERE vm != ?1"));
  others.Bind(1, vm_name);
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(bool row, others.Step());
    if (!row) break;
    const std::string text = others.ColumnText(0);
    Result<uint32_t> addr = ParseIpv4(text);
    if (!addr.ok()) {
      return Error(Code::kCorruption, "state db " + Quote(db_.path()) + ": stored address " +
                                          Quote(text) + " is not an IPv4 address");
    }
    taken.insert(*addr);
  }
  Result<uint32_t> free = LowestFreeAddress(*subnet, taken);
  if (!free.ok()) return std::move(free).error().WithContext(context);
  const std::string ip = FormatIpv4(*free);

  BANGER_ASSIGN_OR_RETURN(
      Statement put,
      Statement::Prepare(db_, "INSERT INTO addresses (ip, vm) VALUES (?1, ?2) "
                              "ON CONFLICT (vm) DO UPDATE SET ip = excluded.ip"));
  put.Bind(1, ip).Bind(2, vm_name);
  BANGER_RETURN_IF_ERROR(RunWrite(put));
  return ip;
}

Result<model::StoreSnapshot> StoreTxn::Load() { return ReadSnapshot(db_); }

}  // namespace banger::store
