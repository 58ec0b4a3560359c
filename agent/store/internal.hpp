// agent/store/internal.hpp — what the store's files share: the connection behind Store, and the
// schema migration step. Test-visible (tests may open a Store's raw connection through it).
#pragma once
#include "agent/store/sqlite.hpp"
#include "agent/store/store.hpp"

namespace berth::store {

struct Store::Db {
    Connection connection;
    int version = 0;
};

// Brings the schema to schema_version in one transaction per step; returns the version reached.
// A database whose user_version is newer than this build is an error (never downgraded).
Result<int> migrate(Connection& db);

} // namespace berth::store
