// Versioned schema migrations of the state db, tracked in PRAGMA user_version.
//
// Step N takes the db from version N-1 to N. Each step runs in its own
// IMMEDIATE transaction together with its user_version bump, so a step that
// fails leaves the db at the version before it, and two processes opening a
// fresh db at once apply each step exactly once. The resulting schema is kept
// as a file in schemas/store.sql (a test keeps the two in agreement).
#pragma once

#include <string_view>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/store/sqlite_db.h"

namespace banger::store {

// PRAGMA application_id of a banger state db ('bang'): a SQLite file made by
// something else is refused rather than migrated.
inline constexpr int64_t kApplicationId = 1650552423;

struct Migration {
  int version;               // the user_version after this step
  std::string_view summary;  // what the step does, for error messages
  std::string_view sql;
};

// The steps of this binary, versions 1..N in order.
const std::vector<Migration>& StoreMigrations();

// Applies every step newer than the db's user_version. Fails with
// kFailedPrecondition when the db is newer than the last step (written by a
// newer banger), and with the step's error (prefixed with its version and
// summary) when a step fails. `steps` must be numbered 1..N in order.
Status Migrate(Database& db, const std::vector<Migration>& steps);

}  // namespace banger::store
