#include "reconciler/store/sqlite_db.h"

#include <cerrno>

namespace banger::store {

Result<Database> Database::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                               SQLITE_OPEN_EXRESCODE,
                           nullptr);
  // sqlite3_open_v2 hands back a handle even on failure; it must be closed.
  Database db(raw, path);
  if (rc != SQLITE_OK) {
    if (raw == nullptr) return Error(Code::kIo, "open state db " + Quote(path) + ": out of memory");
    return db.ErrorFor(rc, "open");
  }
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    Close();
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

void Database::Close() {
  // close_v2 defers the close until outstanding statements are finalized,
  // so destruction order between owners cannot leak the handle.
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

Status Database::Exec(std::string_view sql, std::string_view what) {
  std::string text(sql);
  char* errmsg = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &errmsg);
  sqlite3_free(errmsg);  // ErrorFor reads the same text from the handle
  if (rc != SQLITE_OK) return ErrorFor(rc, what);
  return OkStatus();
}

Result<int64_t> Database::PragmaInt(std::string_view name) {
  BANGER_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*this, "PRAGMA " + std::string(name)));
  BANGER_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Internal("PRAGMA " + std::string(name) + " returned no row");
  return stmt.ColumnInt(0);
}

Error Database::ErrorFor(int rc, std::string_view what) const {
  std::string detail = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  std::string msg = std::string(what) + " state db " + Quote(path_) + ": " + detail;
  int sys_errno = db_ != nullptr ? sqlite3_system_errno(db_) : 0;
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return Error(Code::kCorruption, std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error(Code::kBusy, std::move(msg) + " (another banger process holds it)");
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Error(Code::kPermissionDenied, std::move(msg), sys_errno);
    case SQLITE_READONLY:
      return Error(Code::kPermissionDenied, std::move(msg), sys_errno);
    case SQLITE_CANTOPEN:
      if (sys_errno == EACCES || sys_errno == EPERM)
        return Error(Code::kPermissionDenied, std::move(msg), sys_errno);
      return Error(Code::kIo, std::move(msg), sys_errno);
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_NOLFS:
      return Error(Code::kIo, std::move(msg), sys_errno);
    case SQLITE_CONSTRAINT:
      return Error(Code::kFailedPrecondition, std::move(msg));
    default:
      return Error(Code::kInternal, std::move(msg));
  }
}

Result<Statement> Statement::Prepare(Database& db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return db.ErrorFor(rc, "prepare statement on");
  }
  return Statement(&db, raw);
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_rc_ = other.bind_rc_;
  }
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return db_->ErrorFor(bind_rc_, "bind");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->ErrorFor(rc, "query");
}

Status Statement::Run() {
  BANGER_ASSIGN_OR_RETURN(bool row, Step());
  (void)row;  // statements run this way return no rows worth reading
  return OkStatus();
}

std::string Statement::ColumnText(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

Result<Transaction> Transaction::Begin(Database& db, bool immediate) {
  BANGER_RETURN_IF_ERROR(db.Exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN",
                                 immediate ? "begin write on" : "begin read on"));
  return Transaction(&db);
}

Status Transaction::Commit() {
  if (db_ == nullptr) return Internal("commit of a finished transaction");
  Status st = db_->Exec("COMMIT", "commit to");
  if (!st.ok()) {
    // A failed COMMIT (deferred constraint, I/O) can leave the transaction
    // open; rolling back here releases the write lock at once.
    Rollback();
    return st;
  }
  db_ = nullptr;
  return OkStatus();
}

void Transaction::Rollback() {
  if (db_ == nullptr) return;
  if (!sqlite3_get_autocommit(db_->get())) {
    // Nothing useful can be done if rollback itself fails: SQLite rolls
    // back a hot journal on the next open.
    (void)db_->Exec("ROLLBACK", "roll back");
  }
  db_ = nullptr;
}

}  // namespace banger::store
