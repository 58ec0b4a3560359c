// agent/api/api.hpp — berth's standalone control plane: an ECS-compatible HTTP API (AWS JSON 1.1,
// `POST /` with `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`), every request
// SigV4-verified against locally configured credentials, so the stock `aws ecs ...
// --endpoint-url` CLI drives the node. It owns: the HTTP server (Boost.Beast on one io_context
// thread; body size limit, header/body read timeouts so a slow client never stalls others,
// keep-alive), request authentication, the task-definition, cluster, container-instance and tag
// operations (persisted in agent/store), and the ECS response shapes (ARNs, epoch-second
// timestamps, failures[] with MISSING). Task operations (RunTask, StartTask, StopTask,
// DescribeTasks, ListTasks) go through ControlPlane, the one seam the task engine implements;
// without an engine they are refused with a ServerException saying so.
#pragma once
#include <sys/types.h>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "agent/api/container_stats.hpp"
#include "agent/store/store.hpp"
#include "base/result.hpp"

namespace berth::api {

struct Credentials {
    std::string access_key_id;
    std::string secret_access_key;
};

struct Options {
    std::string address = "127.0.0.1";
    std::uint16_t port = 51680; // 0: any free port (tests), read back with Server::port()
    std::string region = "us-east-1";
    std::string account_id = "000000000000";
    std::string cluster = "default"; // this node's one cluster (ECS_CLUSTER)
    Credentials credentials;         // requests signed with anything else are refused
    std::size_t body_limit = std::size_t{1} << 20;
    std::chrono::milliseconds header_timeout{10'000}; // also the keep-alive idle limit
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::seconds max_clock_skew{15 * 60}; // x-amz-date vs now, either way
    std::size_t max_connections = 256;            // beyond: accepted and closed at once
    // The CLI's socket (<runtime_dir>/berthd.sock; empty: none). The same API without SigV4,
    // served only to peers whose SO_PEERCRED uid is unix_socket_uid (others get a 403
    // AccessDeniedException and are closed). Created mode 0600; a stale socket file is replaced,
    // one that a live server holds (its <path>.lock is locked) is refused with EADDRINUSE.
    std::string unix_socket;
    uid_t unix_socket_uid = 0; // root; tests serve their own uid
};

// --- The seam to the task engine ----------------------------------------------------------------
struct RunTaskRequest {
    std::string cluster;             // cluster name
    std::string task_definition_arn; // resolved, ACTIVE
    store::TaskDefinition task_definition;
    int count = 1;
    std::string overrides = "{}";             // the request's overrides object, JSON text
    std::string network_configuration = "{}"; // awsvpcConfiguration etc., JSON text
    std::string started_by;
    std::string group;
    std::vector<store::Tag> tags;
    // RunTask's clientToken ("" none): a retry with the same token and request gets the first
    // call's tasks; another request with it is refused (EEXIST, bad_input: ConflictException).
    std::string client_token;
};

struct StopTaskRequest {
    std::string cluster;
    std::string task_arn;
    std::string reason;
};

struct Failure {
    std::string arn;
    std::string reason; // "MISSING", "RESOURCE:MEMORY", ...
    std::string detail;
};

struct RunTaskResult {
    std::vector<store::Task> tasks;
    std::vector<Failure> failures;
};

// Implemented by the task engine. Called on the API's io thread: an implementation that runs
// its own loop hands the work over and must not block for long. Each call returns the tasks in
// the store's shape; a Result error with bad_input set becomes InvalidParameterException (the
// message names the field), any other error ServerException.
class ControlPlane {
public:
    virtual ~ControlPlane() = default;
    // Accepts count tasks, each written to durable state before any of its containers is made.
    virtual Result<RunTaskResult> run_task(const RunTaskRequest& request) = 0;
    // Sets desired status STOPPED; the returned task shows the state at that moment.
    // nullopt: no such task in that cluster.
    virtual Result<std::optional<store::Task>> stop_task(const StopTaskRequest& request) = 0;
    // Tasks known by ARN (unknown ARNs are left out; the API reports them as MISSING).
    virtual Result<std::vector<store::Task>>
    describe_tasks(const std::string& cluster, const std::vector<std::string>& arns) = 0;
    virtual Result<std::vector<store::Task>> list_tasks(const store::TaskFilter& filter) = 0;
    // The task metadata endpoint's extras (container_stats.hpp). Engines that know none keep
    // these defaults: no details, and no sample (the endpoint then answers without them).
    // Details of an unfinished task's containers (empty when unknown).
    virtual Result<std::vector<ContainerDetail>> container_details(const std::string& task_arn)
    {
        (void)task_arn;
        return std::vector<ContainerDetail>{};
    }
    // One statistics sample of a live container; nullopt when it has no cgroup (not created
    // yet, or gone). Blocking reads of a few small files, done on the caller's thread.
    virtual Result<std::optional<ContainerSample>> container_sample(const std::string& task_arn,
                                                                    const std::string& container)
    {
        (void)task_arn;
        (void)container;
        return std::optional<ContainerSample>{};
    }
};

class Server {
public:
    // Opens the listener (errors: bad address, port taken) and starts the io thread. The server
    // owns store; engine may be null (task operations refused) and must outlive the server.
    static Result<std::unique_ptr<Server>> start(Options options, store::Store store,
                                                 ControlPlane* engine);
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server(); // stop()
    std::uint16_t port() const;
    // This node's container instance ARN (made at the first start, kept across restarts).
    const std::string& container_instance_arn() const;
    // Closes the listeners and every connection, joins the io thread. Idempotent.
    void stop();

    struct Impl;

private:
    explicit Server(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// --- Introspection: the ECS agent's local API (127.0.0.1:51678) -------------------------------
// Unauthenticated and read-only (GET): /v1/metadata {Cluster, ContainerInstanceArn, Version},
// /v1/tasks {Tasks: [...]}, /v1/tasks?taskarn=ARN and ?dockerid=RUNTIME-ID (404 when unknown;
// a dockerid of up to 12 characters may be a prefix), in the ECS agent's v1 shapes. It calls
// ControlPlane::list_tasks from its own io thread, concurrently with the API server's.
struct NodeInfo {
    std::string cluster;
    std::string container_instance_arn;
    std::string version; // shown as "berth <version>"
};

struct IntrospectionOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 51678; // 0: any free port (tests)
    std::size_t max_connections = 64;
    std::chrono::milliseconds header_timeout{10'000}; // also the keep-alive idle limit
    std::chrono::milliseconds write_timeout{10'000};
};

class IntrospectionServer {
public:
    // Opens the listener (errors: bad address, port taken) and starts the io thread. engine
    // must outlive the server.
    static Result<std::unique_ptr<IntrospectionServer>> start(IntrospectionOptions options,
                                                              NodeInfo node, ControlPlane& engine);
    IntrospectionServer(const IntrospectionServer&) = delete;
    IntrospectionServer& operator=(const IntrospectionServer&) = delete;
    ~IntrospectionServer(); // stop()
    std::uint16_t port() const;
    void stop(); // idempotent

    struct Impl;

private:
    explicit IntrospectionServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// --- Task metadata: the ECS agent's endpoint (127.0.0.1:51679, reached from tasks as
// http://169.254.170.2, which net/ DNATs here). Unauthenticated, GET only. /v4/<id> (this
// container), /v4/<id>/task, /v4/<id>/stats and /v4/<id>/task/stats, and /v3/ alike, in the ECS
// shapes (stats in Docker's stats JSON, precpu_stats from the endpoint's previous sample of that
// container); /v2/credentials/<id> answers 400 (standalone berth has no task roles).
// <id> is metadata_id(): an unknown one is a 404.
inline constexpr std::string_view metadata_address = "169.254.170.2";

struct MetadataOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 51679; // 0: any free port (tests)
    std::size_t max_connections = 256;
    std::chrono::milliseconds header_timeout{10'000}; // also the keep-alive idle limit
    std::chrono::milliseconds write_timeout{10'000};
};

// The node's secret for metadata ids at path: read, or made (random, mode 0600) when absent.
Result<std::string> load_metadata_key(const std::string& path);
// A container's unguessable id (a v4-UUID-shaped HMAC of task ARN and name under key).
std::string metadata_id(std::string_view key, std::string_view task_arn,
                        std::string_view container);
// "ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/<id>" and the v3 variable.
std::vector<std::string> metadata_environment(std::string_view key, std::string_view task_arn,
                                              std::string_view container);

class MetadataServer {
public:
    // Opens the listener and starts the io thread. Task definitions (for limits, labels and the
    // network mode) are read from store; engine must outlive the server.
    static Result<std::unique_ptr<MetadataServer>> start(MetadataOptions options, NodeInfo node,
                                                         std::string key, ControlPlane& engine,
                                                         store::Store store);
    MetadataServer(const MetadataServer&) = delete;
    MetadataServer& operator=(const MetadataServer&) = delete;
    ~MetadataServer(); // stop()
    std::uint16_t port() const;
    void stop(); // idempotent

    struct Impl;

private:
    explicit MetadataServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace berth::api
