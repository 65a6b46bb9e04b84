#include "reconciler/store/store.h"

#include "reconciler/os/fs.h"
#include "reconciler/store/migrations.h"
#include "reconciler/store/snapshot_reader.h"

namespace banger::store {

namespace {

constexpr char kDbFile[] = "state.db";

Result<std::string> QueryText(Database& db, std::string_view sql) {
  BANGER_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db, sql));
  BANGER_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Internal(std::string(sql) + " returned no row");
  return stmt.ColumnText(0);
}

Status ConfigureConnection(Database& db, int busy_timeout_ms) {
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  // The first statement to read the file: a file that is not SQLite fails
  // here with SQLITE_NOTADB (kCorruption).
  BANGER_ASSIGN_OR_RETURN(std::string mode, QueryText(db, "PRAGMA journal_mode = WAL"));
  if (mode != "wal") {
    return Error(Code::kIo, "state db " + Quote(db.path()) +
                                ": cannot switch to the WAL journal (still " + Quote(mode) +
                                "); is the state dir on a filesystem without shared memory?");
  }
  return db.Exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", "configure");
}

// quick_check reads every page: a damaged file is refused at open rather
// than failing half way through a later apply.
Status CheckIntegrity(Database& db) {
  BANGER_ASSIGN_OR_RETURN(std::string verdict, QueryText(db, "PRAGMA quick_check"));
  if (verdict == "ok") return OkStatus();
  return Error(Code::kCorruption,
               "state db " + Quote(db.path()) + " is damaged: " + verdict +
                   " (restore it from a backup or move it aside)");
}

// A SQLite file that some other program made must not be migrated into.
// Read in one transaction: another process may be creating the schema.
Status CheckOwnership(Database& db) {
  BANGER_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db, /*immediate=*/false));
  BANGER_ASSIGN_OR_RETURN(int64_t version, db.PragmaInt("user_version"));
  BANGER_ASSIGN_OR_RETURN(int64_t app_id, db.PragmaInt("application_id"));
  if (version > 0) {
    if (app_id == kApplicationId) return OkStatus();
    return Error(Code::kCorruption, "state db " + Quote(db.path()) +
                                        " is not a banger state db (application_id " +
                                        std::to_string(app_id) + ")");
  }
  BANGER_ASSIGN_OR_RETURN(std::string objects, QueryText(db, "SELECT count(*) FROM sqlite_master"));
  if (objects == "0") return OkStatus();
  return Error(Code::kCorruption, "state db " + Quote(db.path()) +
                                      " is not a banger state db: it holds tables but no schema "
                                      "version");
}

// Clears Store::in_write_ however Write returns.
class WriteScope {
 public:
  explicit WriteScope(bool& flag) : flag_(flag) { flag_ = true; }
  ~WriteScope() { flag_ = false; }
  WriteScope(const WriteScope&) = delete;
  WriteScope& operator=(const WriteScope&) = delete;

 private:
  bool& flag_;
};

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& state_dir) {
  return Open(state_dir, Options{});
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& state_dir, Options options) {
  if (state_dir.empty()) return InvalidArgument("open state db: the state directory is empty");
  Status made = MakeDirs(state_dir, 0700);
  if (!made.ok()) return std::move(made).error().WithContext("create state dir");
  BANGER_ASSIGN_OR_RETURN(Database db, Database::Open(JoinPath(state_dir, kDbFile)));
  BANGER_RETURN_IF_ERROR(ConfigureConnection(db, options.busy_timeout_ms));
  BANGER_RETURN_IF_ERROR(CheckIntegrity(db));
  BANGER_RETURN_IF_ERROR(CheckOwnership(db));
  BANGER_RETURN_IF_ERROR(Migrate(db, StoreMigrations()));
  return std::unique_ptr<Store>(new Store(std::move(db)));
}

Result<model::StoreSnapshot> Store::Load() {
  if (in_write_) return Internal("Store::Load inside a Write: use StoreTxn::Load");
  BANGER_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_, /*immediate=*/false));
  BANGER_ASSIGN_OR_RETURN(model::StoreSnapshot snap, ReadSnapshot(db_));
  BANGER_RETURN_IF_ERROR(txn.Commit());
  return snap;
}

Result<int64_t> Store::Serial() {
  if (in_write_) return Internal("Store::Serial inside a Write");
  return ReadSerial(db_);
}

Result<std::optional<std::string>> Store::AddressOf(const std::string& vm_name) {
  if (in_write_) return Internal("Store::AddressOf inside a Write: use StoreTxn::AddressOf");
  StoreTxn reader(db_);
  return reader.AddressOf(vm_name);
}

Status Store::Write(const std::function<Status(StoreTxn&)>& fn) {
  if (in_write_) return Internal("Store::Write inside a Write of state db " + Quote(path()));
  WriteScope scope(in_write_);
  BANGER_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_, /*immediate=*/true));
  StoreTxn ops(db_);
  // On any early return the Transaction rolls everything back.
  BANGER_RETURN_IF_ERROR(fn(ops));
  if (ops.changed_) {
    BANGER_RETURN_IF_ERROR(db_.Exec("UPDATE state SET serial = serial + 1 WHERE id = 1",
                                    "bump serial of"));
    if (db_.Changes() != 1)
      return Error(Code::kCorruption, "state db " + Quote(path()) + ": serial row is missing");
  }
  return txn.Commit();
}

Status Store::PutKernel(const model::KernelRecord& record) {
  return Write([&](StoreTxn& t) { return t.PutKernel(record); });
}
Status Store::PutImage(const model::ImageRecord& record) {
  return Write([&](StoreTxn& t) { return t.PutImage(record); });
}
Status Store::PutFileSync(const model::FileSyncRecord& record) {
  return Write([&](StoreTxn& t) { return t.PutFileSync(record); });
}
Status Store::PutVm(const model::VmRecord& record) {
  return Write([&](StoreTxn& t) { return t.PutVm(record); });
}
Status Store::PutSettings(const specs::Settings& settings) {
  return Write([&](StoreTxn& t) { return t.PutSettings(settings); });
}
Status Store::DeleteKernel(const std::string& name) {
  return Write([&](StoreTxn& t) { return t.DeleteKernel(name); });
}
Status Store::DeleteImage(const std::string& name) {
  return Write([&](StoreTxn& t) { return t.DeleteImage(name); });
}
Status Store::DeleteFileSync(const std::string& name) {
  return Write([&](StoreTxn& t) { return t.DeleteFileSync(name); });
}
Status Store::DeleteVm(const std::string& name) {
  return Write([&](StoreTxn& t) { return t.DeleteVm(name); });
}

Status Store::PutSnapshot(const model::SnapshotRecord& record) {
  return Write([&](StoreTxn& t) { return t.PutSnapshot(record); });
}

Status Store::DeleteSnapshot(const std::string& name) {
  return Write([&](StoreTxn& t) { return t.DeleteSnapshot(name); });
}

Status Store::SetRestoredFrom(const std::string& vm, const std::string& snapshot) {
  return Write([&](StoreTxn& t) { return t.SetRestoredFrom(vm, snapshot); });
}
Status Store::PutCreatedVm(const model::VmRecord& record, const std::string& restored_from) {
  return Write([&](StoreTxn& t) -> Status {
    BANGER_RETURN_IF_ERROR(t.PutVm(record));
    return t.SetRestoredFrom(record.spec.name, restored_from);
  });
}
Result<std::string> Store::AllocateAddress(const std::string& vm_name,
                                           const std::string& subnet_cidr) {
  std::string ip;
  BANGER_RETURN_IF_ERROR(Write([&](StoreTxn& t) -> Status {
    BANGER_ASSIGN_OR_RETURN(ip, t.AllocateAddress(vm_name, subnet_cidr));
    return OkStatus();
  }));
  return ip;
}
Status Store::ReleaseAddress(const std::string& vm_name) {
  return Write([&](StoreTxn& t) { return t.ReleaseAddress(vm_name); });
}

}  // namespace banger::store
