// agent/store/store.hpp — the agent's durable state in one SQLite database (WAL, synchronous=FULL,
// every change in a transaction): task definitions, tasks and their containers, tags, clusters
// and this node's container instance. The rule it serves: a change is written here *before* the
// action it records is taken, so a crash at any point leaves a whole row or none, and a restart
// reads back what was decided. Schema changes go through numbered migrations (PRAGMA
// user_version); a database newer than this build is refused, never guessed at.
// Not thread-safe: one owner (the API's io thread, or the engine's loop) uses a Store at a time.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include "base/result.hpp"

struct sqlite3;

namespace berth::store {

inline constexpr int schema_version = 4;

struct TaskDefinition {
    std::string family;
    int revision = 0;
    std::string status; // "ACTIVE" or "INACTIVE"
    std::string body;   // the registered definition, JSON text (without the service's fields)
    std::int64_t registered_at = 0;   // epoch seconds
    std::int64_t deregistered_at = 0; // 0 while ACTIVE
};

struct Container {
    std::string name;
    std::string arn;
    std::string image;
    std::string runtime_id; // the runtime's container id, written before create
    std::string desired_status;
    std::string last_status;
    std::optional<int> exit_code;
    std::string reason;
    std::string network_bindings;          // JSON array text, "[]" when none
    std::string health_status;             // "UNKNOWN" until a health check reports
    std::string network_interfaces = "[]"; // JSON array text (awsvpc: privateIpv4Address)
    // From the task definition: the task's healthStatus is derived from the essential containers
    // that have a healthCheck, and the record must answer that without the definition.
    bool essential = true;
    bool health_check = false;
};

struct Task {
    std::string arn;
    std::string cluster; // cluster name
    std::string task_definition_arn;
    std::string container_instance_arn;
    std::string desired_status;
    std::string last_status;
    std::string started_by;
    std::string group;
    std::string stopped_reason;
    std::string stop_code;
    std::string overrides = "{}"; // JSON object text
    std::string cpu, memory;      // task-level, as ECS reports them (strings)
    std::int64_t created_at = 0, started_at = 0, stopping_at = 0, stopped_at = 0;
    std::int64_t pull_started_at = 0, pull_stopped_at = 0;
    std::int64_t version = 1; // bumped on each put
    // The task engine's snapshot (agent/daemon's JSON of engine::TaskState), written before
    // the actions it records; "" for a task the engine never saw.
    std::string engine_state;
    std::vector<Container> containers;
};

// A RunTask's clientToken (idempotency): the request it came with (a canonical text the
// daemon builds) and what it answered (JSON text), per cluster as ECS scopes tokens.
struct ClientToken {
    std::string cluster;
    std::string token;
    std::string request;
    std::string result;
    std::int64_t created_at = 0;
};

struct TaskFilter {
    std::string cluster;
    std::string family;         // empty: any
    std::string started_by;     // empty: any
    std::string desired_status; // empty: any
    // Only tasks not yet finished (engine_state not ""): the metadata endpoint's lookups.
    bool unfinished_only = false;
};

struct Cluster {
    std::string name;
    std::string arn;
    std::int64_t created_at = 0;
};

struct ContainerInstance {
    std::string arn;
    std::string cluster;
    std::int64_t registered_at = 0;
};

using Tag = std::pair<std::string, std::string>; // key, value

class Store {
public:
    // Opens or creates the database at path (":memory:" for tests), applies pending migrations.
    static Result<Store> open(const std::string& path);
    Store(Store&&) noexcept;
    Store& operator=(Store&&) noexcept;
    ~Store();

    int version() const; // the schema version on disk after open

    // Assigns the next revision of family (1 for a new family) and stores the definition ACTIVE.
    Result<TaskDefinition> register_task_definition(const std::string& family,
                                                    const std::string& body, std::int64_t now);
    // nullopt: no such family/revision. revision 0: the latest ACTIVE revision.
    Result<std::optional<TaskDefinition>> task_definition(const std::string& family,
                                                          int revision) const;
    // Marks a revision INACTIVE (idempotent); nullopt when it does not exist.
    Result<std::optional<TaskDefinition>>
    deregister_task_definition(const std::string& family, int revision, std::int64_t now);
    // Ordered by family then revision; status "" means any; family_prefix "" means all.
    Result<std::vector<TaskDefinition>> task_definitions(const std::string& family_prefix,
                                                         const std::string& status) const;
    // Families with at least one revision in status ("" any; "ACTIVE"; "INACTIVE": no ACTIVE).
    Result<std::vector<std::string>> families(const std::string& family_prefix,
                                              const std::string& status) const;

    // Tags: replaces the values of keys already present.
    Result<void> tag(const std::string& arn, const std::vector<Tag>& tags);
    Result<void> untag(const std::string& arn, const std::vector<std::string>& keys);
    Result<std::vector<Tag>> tags(const std::string& arn) const;

    Result<Cluster> ensure_cluster(const std::string& name, const std::string& arn,
                                   std::int64_t now);
    Result<std::vector<Cluster>> clusters() const;
    Result<ContainerInstance> ensure_container_instance(const std::string& cluster,
                                                        const std::string& arn, std::int64_t now);
    Result<std::vector<ContainerInstance>> container_instances(const std::string& cluster) const;

    // Inserts or replaces a task and all its containers in one transaction.
    Result<void> put_task(const Task& task);
    // A RunTask's new tasks, each with the same tags, and its client token (if any), in one
    // transaction: all of them are recorded or none (then nothing of the call may start). With a
    // token, tokens created before prune_tokens_before (epoch seconds; 0: none) are deleted in
    // the same transaction: expired tokens go at no extra commit, and the table holds at most
    // the tokens of one lifetime before the newest.
    Result<void> put_new_tasks(const std::vector<Task>& tasks, const std::vector<Tag>& tags,
                               const std::optional<ClientToken>& token,
                               std::int64_t prune_tokens_before = 0);
    // Deletes the client tokens created before created_before (epoch seconds); how many went.
    Result<std::size_t> prune_client_tokens(std::int64_t created_before);
    // nullopt: the token was never recorded in that cluster.
    Result<std::optional<ClientToken>> client_token(const std::string& cluster,
                                                    const std::string& token) const;
    Result<std::optional<Task>> task(const std::string& arn) const;
    Result<std::vector<Task>> tasks(const TaskFilter& filter) const;

private:
    struct Db;
    explicit Store(std::unique_ptr<Db> db);
    std::unique_ptr<Db> db_;
};

} // namespace berth::store
