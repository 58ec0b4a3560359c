// agent/store/tasks.cpp — tasks and their containers. A task is written whole (task row and every
// container row) in one transaction, so a reader never sees a task with half its containers.
#include <utility>
#include <sqlite3.h>
#include "agent/store/internal.hpp"

namespace berth::store {
namespace {

constexpr const char* task_columns =
    "SELECT arn, cluster, task_definition_arn, container_instance_arn, desired_status, "
    "last_status, started_by, task_group, stopped_reason, stop_code, overrides, cpu, memory, "
    "created_at, started_at, stopping_at, stopped_at, pull_started_at, pull_stopped_at, version, "
    "engine_state FROM tasks ";

Task read_task(const Statement& s)
{
    Task t;
    t.arn = s.text(0);
    t.cluster = s.text(1);
    t.task_definition_arn = s.text(2);
    t.container_instance_arn = s.text(3);
    t.desired_status = s.text(4);
    t.last_status = s.text(5);
    t.started_by = s.text(6);
    t.group = s.text(7);
    t.stopped_reason = s.text(8);
    t.stop_code = s.text(9);
    t.overrides = s.text(10);
    t.cpu = s.text(11);
    t.memory = s.text(12);
    t.created_at = s.integer(13);
    t.started_at = s.integer(14);
    t.stopping_at = s.integer(15);
    t.stopped_at = s.integer(16);
    t.pull_started_at = s.integer(17);
    t.pull_stopped_at = s.integer(18);
    t.version = s.integer(19);
    t.engine_state = s.text(20);
    return t;
}

Result<void> insert_task(Connection& db, const Task& t)
{
    auto stmt = db.prepare(
        "INSERT OR REPLACE INTO tasks (arn, cluster, task_definition_arn, container_instance_arn, "
        "desired_status, last_status, started_by, task_group, stopped_reason, stop_code, "
        "overrides, cpu, memory, created_at, started_at, stopping_at, stopped_at, "
        "pull_started_at, pull_stopped_at, version, engine_state) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
        "?20, ?21)");
    if (!stmt)
        return std::move(stmt).error();
    stmt->bind(1, t.arn).bind(2, t.cluster).bind(3, t.task_definition_arn);
    stmt->bind(4, t.container_instance_arn).bind(5, t.desired_status).bind(6, t.last_status);
    stmt->bind(7, t.started_by).bind(8, t.group).bind(9, t.stopped_reason).bind(10, t.stop_code);
    stmt->bind(11, t.overrides).bind(12, t.cpu).bind(13, t.memory).bind(14, t.created_at);
    stmt->bind(15, t.started_at).bind(16, t.stopping_at).bind(17, t.stopped_at);
    stmt->bind(18, t.pull_started_at).bind(19, t.pull_stopped_at).bind(20, t.version);
    stmt->bind(21, t.engine_state);
    return stmt->run();
}

Result<void> insert_container(Connection& db, const std::string& task_arn, std::int64_t position,
                              const Container& c)
{
    auto stmt = db.prepare(
        "INSERT INTO containers (task_arn, position, name, arn, image, runtime_id, "
        "desired_status, last_status, exit_code, reason, network_bindings, health_status, "
        "network_interfaces, essential, health_check) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
    if (!stmt)
        return std::move(stmt).error();
    stmt->bind(1, task_arn).bind(2, position).bind(3, c.name).bind(4, c.arn).bind(5, c.image);
    stmt->bind(6, c.runtime_id).bind(7, c.desired_status).bind(8, c.last_status);
    if (c.exit_code)
        stmt->bind(9, std::int64_t{*c.exit_code});
    else
        stmt->bind_null(9);
    stmt->bind(10, c.reason).bind(11, c.network_bindings).bind(12, c.health_status);
    stmt->bind(13, c.network_interfaces);
    stmt->bind(14, std::int64_t{c.essential ? 1 : 0})
        .bind(15, std::int64_t{c.health_check ? 1 : 0});
    return stmt->run();
}

Result<void> read_containers(const Connection& db, Task& task)
{
    auto stmt =
        db.prepare("SELECT name, arn, image, runtime_id, desired_status, last_status, "
                   "exit_code, reason, network_bindings, health_status, network_interfaces, "
                   "essential, health_check FROM containers "
                   "WHERE task_arn = ?1 ORDER BY position");
    if (!stmt)
        return std::move(stmt).error();
    stmt->bind(1, task.arn);
    for (;;) {
        auto row = stmt->step();
        if (!row)
            return std::move(row).error();
        if (!*row)
            return {};
        Container c{stmt->text(0), stmt->text(1), stmt->text(2), stmt->text(3),
                    stmt->text(4), stmt->text(5), std::nullopt,  stmt->text(7),
                    stmt->text(8), stmt->text(9), stmt->text(10)};
        if (auto code = stmt->optional_integer(6))
            c.exit_code = static_cast<int>(*code);
        c.essential = stmt->integer(11) != 0;
        c.health_check = stmt->integer(12) != 0;
        task.containers.push_back(std::move(c));
    }
}

// The task row and its container rows; the caller holds the transaction.
Result<void> write_task(Connection& db, const Task& task)
{
    auto drop = db.prepare("DELETE FROM containers WHERE task_arn = ?1");
    if (!drop)
        return std::move(drop).error();
    drop->bind(1, task.arn);
    if (auto r = drop->run(); !r)
        return r;
    if (auto r = insert_task(db, task); !r)
        return std::move(r).error().wrap(cat("store task ", task.arn));
    std::int64_t position = 0;
    for (const auto& c : task.containers)
        if (auto r = insert_container(db, task.arn, position++, c); !r)
            return std::move(r).error().wrap(cat("store container ", quoted(c.name)));
    return {};
}

Result<void> write_tags(Connection& db, const std::string& arn, const std::vector<Tag>& tags)
{
    for (const auto& [key, value] : tags) {
        auto stmt = db.prepare("INSERT INTO tags (arn, key, value) VALUES (?1, ?2, ?3) "
                               "ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value");
        if (!stmt)
            return std::move(stmt).error();
        stmt->bind(1, arn).bind(2, key).bind(3, value);
        if (auto r = stmt->run(); !r)
            return r;
    }
    return {};
}

Result<void> write_token(Connection& db, const ClientToken& t)
{
    auto stmt = db.prepare("INSERT OR REPLACE INTO client_tokens (cluster, token, request, "
                           "result, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!stmt)
        return std::move(stmt).error();
    stmt->bind(1, t.cluster).bind(2, t.token).bind(3, t.request).bind(4, t.result);
    stmt->bind(5, t.created_at);
    return stmt->run();
}

Result<std::size_t> delete_tokens_before(Connection& db, std::int64_t created_before)
{
    auto stmt = db.prepare("DELETE FROM client_tokens WHERE created_at < ?1");
    if (!stmt)
        return std::move(stmt).error();
    stmt->bind(1, created_before);
    if (auto r = stmt->run(); !r)
        return std::move(r).error();
    return static_cast<std::size_t>(::sqlite3_changes(db.handle()));
}

} // namespace

Result<std::size_t> Store::prune_client_tokens(std::int64_t created_before)
{
    auto& db = db_->connection;
    auto tx = Transaction::begin(db);
    if (!tx)
        return std::move(tx).error();
    auto gone = delete_tokens_before(db, created_before);
    if (!gone)
        return std::move(gone).error().wrap("prune client tokens");
    if (auto r = tx->commit(); !r)
        return std::move(r).error();
    return gone;
}

Result<void> Store::put_task(const Task& task)
{
    auto& db = db_->connection;
    auto tx = Transaction::begin(db);
    if (!tx)
        return std::move(tx).error();
    if (auto r = write_task(db, task); !r)
        return r;
    return tx->commit();
}

Result<void> Store::put_new_tasks(const std::vector<Task>& tasks, const std::vector<Tag>& tags,
                                  const std::optional<ClientToken>& token,
                                  std::int64_t prune_tokens_before)
{
    auto& db = db_->connection;
    auto tx = Transaction::begin(db);
    if (!tx)
        return std::move(tx).error();
    for (const auto& task : tasks) {
        if (auto r = write_task(db, task); !r)
            return r;
        if (auto r = write_tags(db, task.arn, tags); !r)
            return std::move(r).error().wrap(cat("store tags of ", task.arn));
    }
    if (token) {
        if (auto r = write_token(db, *token); !r)
            return std::move(r).error().wrap("store clientToken");
        if (auto r = delete_tokens_before(db, prune_tokens_before); !r)
            return std::move(r).error().wrap("prune client tokens");
    }
    return tx->commit();
}

Result<std::optional<ClientToken>> Store::client_token(const std::string& cluster,
                                                       const std::string& token) const
{
    auto stmt = db_->connection.prepare("SELECT request, result, created_at FROM client_tokens "
                                        "WHERE cluster = ?1 AND token = ?2");
    if (!stmt)
        return std::move(stmt).error();
    stmt->bind(1, cluster).bind(2, token);
    auto row = stmt->step();
    if (!row)
        return std::move(row).error();
    if (!*row)
        return std::optional<ClientToken>{};
    return std::optional<ClientToken>{
        ClientToken{cluster, token, stmt->text(0), stmt->text(1), stmt->integer(2)}};
}

Result<std::optional<Task>> Store::task(const std::string& arn) const
{
    auto stmt = db_->connection.prepare(cat(task_columns, "WHERE arn = ?1"));
    if (!stmt)
        return std::move(stmt).error();
    stmt->bind(1, arn);
    auto row = stmt->step();
    if (!row)
        return std::move(row).error();
    if (!*row)
        return std::optional<Task>{};
    Task t = read_task(*stmt);
    if (auto r = read_containers(db_->connection, t); !r)
        return std::move(r).error();
    return std::optional<Task>{std::move(t)};
}

Result<std::vector<Task>> Store::tasks(const TaskFilter& f) const
{
    // family matches the task definition ARN's "task-definition/<family>:" part.
    auto stmt = db_->connection.prepare(
        cat(task_columns, "WHERE cluster = ?1 AND (?2 = '' OR instr(task_definition_arn, "
                          "'task-definition/' || ?2 || ':') > 0) AND (?3 = '' OR started_by = ?3) "
                          "AND (?4 = '' OR desired_status = ?4) AND (?5 = 0 OR engine_state != '') "
                          "ORDER BY created_at, arn"));
    if (!stmt)
        return std::move(stmt).error();
    stmt->bind(1, f.cluster)
        .bind(2, f.family)
        .bind(3, f.started_by)
        .bind(4, f.desired_status)
        .bind(5, std::int64_t{f.unfinished_only ? 1 : 0});
    std::vector<Task> out;
    for (;;) {
        auto row = stmt->step();
        if (!row)
            return std::move(row).error();
        if (!*row)
            break;
        out.push_back(read_task(*stmt));
    }
    for (auto& t : out)
        if (auto r = read_containers(db_->connection, t); !r)
            return std::move(r).error();
    return out;
}

} // namespace berth::store
