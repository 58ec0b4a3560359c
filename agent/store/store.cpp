// agent/store/store.cpp — opening the database, task definitions, tags, clusters and the
// container instance. Tasks and containers are in tasks.cpp.
#include <utility>
#include "agent/store/internal.hpp"

namespace berth::store {
namespace {

// WAL lets readers (berth CLI, introspection) run beside the writer; synchronous=FULL makes a
// committed transaction survive power loss, which "written before the action" relies on.
// cache_size: 256 KiB of pages per connection, not SQLite's 2 MB: berthd holds three (loop, API,
// metadata) for its life, each would grow to the size of the database (1 MB after 500 tasks)
// and keep it, while a page read again comes from the kernel's page cache in microseconds
// (docs/BENCHMARKS.md, "Memory, fourth round").
constexpr const char* pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; "
                                "PRAGMA cache_size=-256;";

TaskDefinition read_task_definition(const Statement& stmt)
{
    return TaskDefinition{stmt.text(0),    static_cast<int>(stmt.integer(1)),
                          stmt.text(2),    stmt.text(3),
                          stmt.integer(4), stmt.integer(5)};
}

constexpr const char* task_definition_columns =
    "SELECT family, revision, status, body, registered_at, deregistered_at FROM task_definitions ";

// LIKE would treat '%' and '_' in a prefix as wildcards: compare the prefix by substr instead.
constexpr const char* prefix_clause = "(?1 = '' OR substr(family, 1, length(?1)) = ?1)";

} // namespace

Store::Store(std::unique_ptr<Db> db) : db_(std::move(db))
{
}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

int Store::version() const
{
    return db_->version;
}

Result<Store> Store::open(const std::string& path)
{
    auto connection = Connection::open(path);
    if (!connection)
        return std::move(connection).error();
    if (auto r = connection->exec(pragmas); !r)
        return std::move(r).error().wrap(cat("open database ", quoted(path)));
    auto version = migrate(*connection);
    if (!version)
        return std::move(version).error().wrap(cat("open database ", quoted(path)));
    return Store(std::make_unique<Db>(Db{std::move(*connection), *version}));
}

Result<TaskDefinition> Store::register_task_definition(const std::string& family,
                                                       const std::string& body, std::int64_t now)
{
    auto& db = db_->connection;
    auto tx = Transaction::begin(db);
    if (!tx)
        return std::move(tx).error();
    auto next =
        db.prepare("SELECT COALESCE(MAX(revision), 0) + 1 FROM task_definitions WHERE family = ?1");
    if (!next)
        return std::move(next).error();
    next->bind(1, family);
    if (auto row = next->step(); !row)
        return std::move(row).error();
    TaskDefinition def{family, static_cast<int>(next->integer(0)), "ACTIVE", body, now, 0};
    auto insert = db.prepare("INSERT INTO task_definitions (family, revision, status, body, "
                             "registered_at) VALUES (?1, ?2, 'ACTIVE', ?3, ?4)");
    if (!insert)
        return std::move(insert).error();
    insert->bind(1, family).bind(2, std::int64_t{def.revision}).bind(3, body).bind(4, now);
    if (auto r = insert->run(); !r)
        return std::move(r).error();
    if (auto r = tx->commit(); !r)
        return std::move(r).error();
    return def;
}

Result<std::optional<TaskDefinition>> Store::task_definition(const std::string& family,
                                                             int revision) const
{
    auto stmt = db_->connection.prepare(
        revision > 0 ? cat(task_definition_columns, "WHERE family = ?1 AND revision = ?2")
                     : cat(task_definition_columns, "WHERE family = ?1 AND status = 'ACTIVE' "
                                                    "ORDER BY revision DESC LIMIT 1"));
    if (!stmt)
        return std::move(stmt).error();
    stmt->bind(1, family);
    if (revision > 0)
        stmt->bind(2, std::int64_t{revision});
    auto row = stmt->step();
    if (!row)
        return std::move(row).error();
    if (!*row)
        return std::optional<TaskDefinition>{};
    return std::optional<TaskDefinition>{read_task_definition(*stmt)};
}

Result<std::optional<TaskDefinition>>
Store::deregister_task_definition(const std::string& family, int revision, std::int64_t now)
{
    auto update = db_->connection.prepare(
        "UPDATE task_definitions SET status = 'INACTIVE', deregistered_at = ?3 "
        "WHERE family = ?1 AND revision = ?2 AND status = 'ACTIVE'");
    if (!update)
        return std::move(update).error();
    update->bind(1, family).bind(2, std::int64_t{revision}).bind(3, now);
    if (auto r = update->run(); !r)
        return std::move(r).error();
    return task_definition(family, revision);
}

Result<std::vector<TaskDefinition>> Store::task_definitions(const std::string& family_prefix,
                                                            const std::string& status) const
{
    auto stmt = db_->connection.prepare(cat(task_definition_columns, "WHERE ", prefix_clause,
                                            " AND (?2 = '' OR status = ?2) "
                                            "ORDER BY family, revision"));
    if (!stmt)
        return std::move(stmt).error();
    stmt->bind(1, family_prefix).bind(2, status);
    std::vector<TaskDefinition> out;
    for (;;) {
        auto row = stmt->step();
        if (!row)
            return std::move(row).error();
        if (!*row)
            return out;
        out.push_back(read_task_definition(*stmt));
    }
}

Result<std::vector<std::string>> Store::families(const std::string& family_prefix,
                                                 const std::string& status) const
{
    // ECS: an ACTIVE family has an ACTIVE revision; an INACTIVE family has none left.
    auto stmt = db_->connection.prepare(
        cat("SELECT family, SUM(status = 'ACTIVE') FROM task_definitions WHERE ", prefix_clause,
            " GROUP BY family ORDER BY family"));
    if (!stmt)
        return std::move(stmt).error();
    stmt->bind(1, family_prefix);
    std::vector<std::string> out;
    for (;;) {
        auto row = stmt->step();
        if (!row)
            return std::move(row).error();
        if (!*row)
            return out;
        const bool active = stmt->integer(1) > 0;
        if (status.empty() || (status == "ACTIVE") == active)
            out.push_back(stmt->text(0));
    }
}

Result<void> Store::tag(const std::string& arn, const std::vector<Tag>& tags)
{
    auto& db = db_->connection;
    auto tx = Transaction::begin(db);
    if (!tx)
        return std::move(tx).error();
    for (const auto& [key, value] : tags) {
        auto stmt = db.prepare("INSERT INTO tags (arn, key, value) VALUES (?1, ?2, ?3) "
                               "ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value");
        if (!stmt)
            return std::move(stmt).error();
        stmt->bind(1, arn).bind(2, key).bind(3, value);
        if (auto r = stmt->run(); !r)
            return r;
    }
    return tx->commit();
}

Result<void> Store::untag(const std::string& arn, const std::vector<std::string>& keys)
{
    auto& db = db_->connection;
    auto tx = Transaction::begin(db);
    if (!tx)
        return std::move(tx).error();
    for (const auto& key : keys) {
        auto stmt = db.prepare("DELETE FROM tags WHERE arn = ?1 AND key = ?2");
        if (!stmt)
            return std::move(stmt).error();
        stmt->bind(1, arn).bind(2, key);
        if (auto r = stmt->run(); !r)
            return r;
    }
    return tx->commit();
}

Result<std::vector<Tag>> Store::tags(const std::string& arn) const
{
    auto stmt = db_->connection.prepare("SELECT key, value FROM tags WHERE arn = ?1 ORDER BY key");
    if (!stmt)
        return std::move(stmt).error();
    stmt->bind(1, arn);
    std::vector<Tag> out;
    for (;;) {
        auto row = stmt->step();
        if (!row)
            return std::move(row).error();
        if (!*row)
            return out;
        out.emplace_back(stmt->text(0), stmt->text(1));
    }
}

Result<Cluster> Store::ensure_cluster(const std::string& name, const std::string& arn,
                                      std::int64_t now)
{
    auto insert = db_->connection.prepare(
        "INSERT INTO clusters (name, arn, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING");
    if (!insert)
        return std::move(insert).error();
    insert->bind(1, name).bind(2, arn).bind(3, now);
    if (auto r = insert->run(); !r)
        return std::move(r).error();
    auto all = clusters();
    if (!all)
        return std::move(all).error();
    for (auto& c : *all)
        if (c.name == name)
            // cppcheck-suppress returnStdMoveLocal ; c is a vector element, not a local
            return std::move(c);
    return Error::with_code(EIO, "cluster ", quoted(name), " vanished after insert");
}

Result<std::vector<Cluster>> Store::clusters() const
{
    auto stmt = db_->connection.prepare("SELECT name, arn, created_at FROM clusters ORDER BY name");
    if (!stmt)
        return std::move(stmt).error();
    std::vector<Cluster> out;
    for (;;) {
        auto row = stmt->step();
        if (!row)
            return std::move(row).error();
        if (!*row)
            return out;
        out.push_back(Cluster{stmt->text(0), stmt->text(1), stmt->integer(2)});
    }
}

Result<ContainerInstance> Store::ensure_container_instance(const std::string& cluster,
                                                           const std::string& arn, std::int64_t now)
{
    // One node, one container instance per cluster: an existing row keeps its ARN (the ECS
    // agent re-registers with the saved ARN rather than minting a new one).
    auto existing = container_instances(cluster);
    if (!existing)
        return std::move(existing).error();
    if (!existing->empty())
        return existing->front();
    auto insert = db_->connection.prepare(
        "INSERT INTO container_instances (arn, cluster, registered_at) VALUES (?1, ?2, ?3)");
    if (!insert)
        return std::move(insert).error();
    insert->bind(1, arn).bind(2, cluster).bind(3, now);
    if (auto r = insert->run(); !r)
        return std::move(r).error();
    return ContainerInstance{arn, cluster, now};
}

Result<std::vector<ContainerInstance>> Store::container_instances(const std::string& cluster) const
{
    auto stmt = db_->connection.prepare("SELECT arn, cluster, registered_at FROM "
                                        "container_instances WHERE cluster = ?1 ORDER BY arn");
    if (!stmt)
        return std::move(stmt).error();
    stmt->bind(1, cluster);
    std::vector<ContainerInstance> out;
    for (;;) {
        auto row = stmt->step();
        if (!row)
            return std::move(row).error();
        if (!*row)
            return out;
        out.push_back(ContainerInstance{stmt->text(0), stmt->text(1), stmt->integer(2)});
    }
}

} // namespace berth::store
