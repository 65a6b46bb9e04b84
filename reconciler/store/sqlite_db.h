// Move-only owners of a SQLite connection and a prepared statement, with
// every SQLite result code turned into a banger Error that names the file.
//
// The connection is opened with SQLite's own locking (it opens its files
// O_CLOEXEC) and extended result codes. One Database is used by one thread
// at a time; separate Databases on the same file are how concurrent
// processes (and tests) share it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "reconciler/base/error.h"

namespace banger::store {

class Database {
 public:
  // Opens (creating if missing) the database file at `path`.
  static Result<Database> Open(const std::string& path);

  Database() = default;
  ~Database() { Close(); }
  Database(Database&& other) noexcept
      : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }

  // Runs one or more statements that return no rows we need; `what` names
  // the operation in errors ("<what> state db '<path>': <reason>").
  Status Exec(std::string_view sql, std::string_view what = "update");

  // Reads an integer PRAGMA, e.g. "user_version".
  Result<int64_t> PragmaInt(std::string_view name);

  // Rows changed by the most recent INSERT/UPDATE/DELETE.
  int64_t Changes() const { return sqlite3_changes64(db_); }

  // An Error for result code `rc` of operation `what`: kCorruption for a
  // damaged or foreign file, kBusy when another writer holds the lock past
  // the busy timeout, kIo/kPermissionDenied for the OS, kInternal for
  // misuse. The message names the file and quotes SQLite's own words.
  Error ErrorFor(int rc, std::string_view what) const;

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  void Close();

  sqlite3* db_ = nullptr;
  std::string path_;
};

class Statement {
 public:
  static Result<Statement> Prepare(Database& db, std::string_view sql);

  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(Statement&& other) noexcept
      : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, in the order of the '?' in the SQL.
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, int64_t value);

  // Advances: true when a row is available, false when done.
  Result<bool> Step();
  // Steps a statement that returns no rows.
  Status Run();

  int64_t ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string ColumnText(int col) const;
  bool ColumnIsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  Statement(Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  Database* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int bind_rc_ = SQLITE_OK;  // the first failed bind, reported by Step()
};

// Holds a transaction open and rolls it back on scope exit unless
// committed. Begin() with immediate=true takes the write lock at once (and
// waits up to the busy timeout for it), so a write never fails half way
// because another connection upgraded first.
class Transaction {
 public:
  static Result<Transaction> Begin(Database& db, bool immediate);

  Transaction() = default;
  ~Transaction() { Rollback(); }
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;

  // On failure the transaction has been rolled back.
  Status Commit();
  void Rollback();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_ = nullptr;
};

}  // namespace banger::store
