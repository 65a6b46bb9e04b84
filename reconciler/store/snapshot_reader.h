// Reads every table of state.db into a StoreSnapshot. The caller provides
// the transaction, so the result is one consistent view.
#pragma once

#include "reconciler/base/error.h"
#include "reconciler/model/records.h"
#include "reconciler/store/sqlite_db.h"

namespace banger::store {

// Fails with kCorruption (message naming the file, kind and record) when a
// stored record does not decode, or with the SQLite error of the read.
Result<model::StoreSnapshot> ReadSnapshot(Database& db);

// The serial row of the state table.
Result<int64_t> ReadSerial(Database& db);

}  // namespace banger::store
