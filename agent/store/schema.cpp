// agent/store/schema.cpp — the schema and its numbered migrations. Each step runs in its own
// transaction together with the PRAGMA user_version bump, so a crash mid-migration leaves the
// previous version whole. Append steps; never edit a released one.
#include <array>
#include "agent/store/internal.hpp"

namespace berth::store {
namespace {

// Step N brings user_version N-1 to N.
constexpr std::array<const char*, schema_version> migrations = {
    R"sql(
CREATE TABLE task_definitions (
    family TEXT NOT NULL,
    revision INTEGER NOT NULL CHECK (revision > 0),
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),
    body TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    deregistered_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (family, revision)
);
CREATE TABLE tags (
    arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
);
CREATE TABLE clusters (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE container_instances (
    arn TEXT PRIMARY KEY,
    cluster TEXT NOT NULL REFERENCES clusters(name),
    registered_at INTEGER NOT NULL
);
CREATE TABLE tasks (
    arn TEXT PRIMARY KEY,
    cluster TEXT NOT NULL,
    task_definition_arn TEXT NOT NULL,
    container_instance_arn TEXT NOT NULL,
    desired_status TEXT NOT NULL,
    last_status TEXT NOT NULL,
    started_by TEXT NOT NULL,
    task_group TEXT NOT NULL,
    stopped_reason TEXT NOT NULL,
    stop_code TEXT NOT NULL,
    overrides TEXT NOT NULL,
    cpu TEXT NOT NULL,
    memory TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    stopping_at INTEGER NOT NULL,
    stopped_at INTEGER NOT NULL,
    pull_started_at INTEGER NOT NULL,
    pull_stopped_at INTEGER NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX tasks_by_cluster ON tasks (cluster, desired_status);
CREATE TABLE containers (
    task_arn TEXT NOT NULL REFERENCES tasks(arn) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    image TEXT NOT NULL,
    runtime_id TEXT NOT NULL,
    desired_status TEXT NOT NULL,
    last_status TEXT NOT NULL,
    exit_code INTEGER,
    reason TEXT NOT NULL,
    network_bindings TEXT NOT NULL,
    health_status TEXT NOT NULL,
    PRIMARY KEY (task_arn, name)
);
)sql",
    // 2: the engine's snapshot per task (restore after a restart) and awsvpc interfaces.
    R"sql(
ALTER TABLE tasks ADD COLUMN engine_state TEXT NOT NULL DEFAULT '';
ALTER TABLE containers ADD COLUMN network_interfaces TEXT NOT NULL DEFAULT '[]';
)sql",
    // 3: RunTask client tokens (idempotency; per cluster, as ECS scopes them).
    R"sql(
CREATE TABLE client_tokens (
    cluster TEXT NOT NULL,
    token TEXT NOT NULL,
    request TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (cluster, token)
);
)sql",
    // 4: what the task's healthStatus is derived from (essential containers with a healthCheck).
    R"sql(
ALTER TABLE containers ADD COLUMN essential INTEGER NOT NULL DEFAULT 1;
ALTER TABLE containers ADD COLUMN health_check INTEGER NOT NULL DEFAULT 0;
)sql",
};

Result<int> user_version(Connection& db)
{
    auto stmt = db.prepare("PRAGMA user_version");
    if (!stmt)
        return std::move(stmt).error();
    auto row = stmt->step();
    if (!row)
        return std::move(row).error();
    return static_cast<int>(stmt->integer(0));
}

} // namespace

Result<int> migrate(Connection& db)
{
    auto current = user_version(db);
    if (!current)
        return std::move(current).error();
    int version = *current;
    if (version > schema_version)
        return Error::invalid("database schema version ", version,
                              " is newer than this berth understands (", schema_version, ")");
    while (version < schema_version) {
        auto tx = Transaction::begin(db);
        if (!tx)
            return std::move(tx).error();
        if (auto r = db.exec(migrations.at(static_cast<std::size_t>(version))); !r)
            return std::move(r).error().wrap(cat("migrate schema to version ", version + 1));
        const std::string bump = cat("PRAGMA user_version = ", version + 1);
        if (auto r = db.exec(bump.c_str()); !r)
            return std::move(r).error();
        if (auto r = tx->commit(); !r)
            return std::move(r).error();
        ++version;
    }
    return version;
}

} // namespace berth::store
