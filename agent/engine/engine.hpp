// agent/engine/engine.hpp — the ECS task/container state machine, as pure deterministic logic.
// A Task consumes events (a pull finished, a container started or exited, a health probe's
// result, a timer, a stop request) and returns the actions the agent must perform (pull, create,
// start, signal, probe, remove, report). It owns no thread, no fd and no clock: every call takes
// `now`, and next_deadline() tells the single event loop when to call on_timer(). The agent
// persists snapshot() before it performs the actions a call returned (state written before the
// action it records), and after a crash rebuilds the Task with restore() from that snapshot and
// what it observes of the containers. Transition rules follow amazon-ecs-agent (agent/api/task,
// agent/engine/dependencygraph/graph.go, agent/engine/task_manager.go); each .cpp cites its part.
// Errors: EINVAL (bad_input) for a task spec the machine cannot run, naming the field.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "base/result.hpp"

namespace berth::engine {

// Milliseconds since an epoch the caller picks and keeps across restarts (the agent uses
// CLOCK_REALTIME, so persisted start times stay meaningful after an agent restart).
using Time = std::chrono::milliseconds;
using Duration = std::chrono::milliseconds;

// The task lifecycle of the ECS service (DescribeTasks lastStatus/desiredStatus).
enum class TaskStatus {
    Provisioning,
    Pending,
    Activating,
    Running,
    Deactivating,
    Stopping,
    Deprovisioning,
    Stopped
};
// The ECS agent's container statuses (agent/api/container/status), in transition order.
enum class ContainerStatus {
    None,
    ManifestPulled,
    Pulled,
    Created,
    Running,
    ResourcesProvisioned,
    Stopped
};
enum class HealthStatus { Unknown, Healthy, Unhealthy };
enum class Condition { Start, Complete, Success, Healthy };
enum class StopCode { None, TaskFailedToStart, EssentialContainerExited, UserInitiated };

std::string_view name_of(TaskStatus status); // "RUNNING"
std::string_view name_of(ContainerStatus status);
std::string_view name_of(HealthStatus status);
std::string_view name_of(Condition condition);
std::string_view name_of(StopCode code); // "" for None

// What the machine needs of a task definition (the agent fills it from agent/taskdef).
struct HealthCheckSpec {
    std::vector<std::string> command; // ["CMD-SHELL", "curl -f localhost"] as in ECS
    Duration interval = std::chrono::seconds(30);
    Duration timeout = std::chrono::seconds(5);
    int retries = 3;
    Duration start_period{0};
};
struct Dependency {
    std::string container;
    Condition condition = Condition::Start;
};
struct ContainerSpec {
    std::string name;
    std::string image;
    bool essential = true;
    std::vector<Dependency> depends_on;
    std::optional<HealthCheckSpec> health_check;
    std::optional<Duration> start_timeout; // for dependents waiting on COMPLETE/SUCCESS/HEALTHY
    std::optional<Duration> stop_timeout;  // SIGTERM -> SIGKILL; default TaskSpec::stop_timeout
};
struct Timeouts { // how long an action may take before it counts as failed (ECS defaults)
    Duration pull = std::chrono::hours(2);     // ECS_IMAGE_PULL_TIMEOUT
    Duration create = std::chrono::minutes(4); // ECS_CONTAINER_CREATE_TIMEOUT
    Duration start = std::chrono::minutes(3);  // ECS_CONTAINER_START_TIMEOUT
    Duration provision = std::chrono::minutes(2);
};
struct TaskSpec {
    std::string arn;
    std::vector<ContainerSpec> containers;
    Duration stop_timeout = std::chrono::seconds(30); // ECS_CONTAINER_STOP_TIMEOUT
    Duration cleanup_wait = std::chrono::hours(3);    // ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION
    Timeouts timeouts;
};

// What the agent must do. `container` is empty for task-wide actions.
enum class ActionKind {
    Provision,   // task-wide resources (network namespace, volumes); answered by Provisioned
    PullImage,   // answered by PullDone / PullFailed
    Create,      // answered by Created / CreateFailed
    Start,       // answered by Started / StartFailed
    Signal,      // `signal` is SIGTERM or SIGKILL; the exit comes back as Exited
    HealthProbe, // run health_check.command within `timeout`; answered by HealthResult
    Remove,      // delete the container and its logs (after cleanup_wait); no answer needed
    Deprovision, // release what Provision made; answered by Deprovisioned
    ReportTask,  // tell the control plane: task_status (+ stop code and reason when STOPPED)
    ReportContainer,
};
struct Action {
    ActionKind kind;
    std::string container{};
    std::string image{};                                      // PullImage
    int signal = 0;                                           // Signal
    Duration timeout{0};                                      // HealthProbe
    TaskStatus task_status = TaskStatus::Provisioning;        // ReportTask
    ContainerStatus container_status = ContainerStatus::None; // ReportContainer
    std::optional<int> exit_code{};                           // ReportContainer
    HealthStatus health = HealthStatus::Unknown;              // ReportContainer
    std::string reason{};                                     // ReportContainer / ReportTask
    StopCode stop_code = StopCode::None;                      // ReportTask
};

enum class EventKind {
    Provisioned,
    ProvisionFailed,
    PullDone,
    PullFailed,
    Created,
    CreateFailed,
    Started,
    StartFailed,
    Exited,
    HealthResult,
    Deprovisioned
};
struct Event {
    EventKind kind;
    std::string container;
    int exit_code = 0;    // Exited
    bool healthy = false; // HealthResult
    std::string reason;   // *Failed: why ("manifest unknown")
};

struct ContainerState {
    ContainerStatus known = ContainerStatus::None;
    ContainerStatus desired = ContainerStatus::Running;
    std::optional<int> exit_code;
    std::string reason;
    HealthStatus health = HealthStatus::Unknown;
    std::optional<Time> created_at; // the runtime's create answered (epoch ms, as `now`)
    std::optional<Time> started_at;
    std::optional<Time> finished_at; // its exit was learnt
    int failed_probes = 0;           // consecutive, outside the start period
    bool exists = false;             // created in the runtime: Remove is due at cleanup
};
struct TaskState { // everything snapshot() persists
    TaskStatus known = TaskStatus::Provisioning;
    TaskStatus desired = TaskStatus::Running;
    StopCode stop_code = StopCode::None;
    std::string stopped_reason;
    bool provisioned = false;
    std::optional<Time> stopped_at;
    std::vector<ContainerState> containers; // in TaskSpec::containers order
};
// What the agent saw of one container after a restart (runtime/recover and exit records).
struct Observed {
    std::string container;
    bool exists = false;  // the runtime knows the container
    bool running = false; // its process is alive
    std::optional<int> exit_code;
    // When it ended, if its reaper recorded it (it ended while the agent was down): the
    // container's finished_at, rather than the time the restarted agent learnt it.
    std::optional<Time> finished_at = std::nullopt;
    // Why, if its reaper said (an OOM kill while the agent was down: OutOfMemoryError...).
    std::string reason{};
};

class Task {
public:
    // Checks the spec: names unique and non-empty, at least one essential container, dependsOn
    // naming known containers without cycles, HEALTHY only on a container with a health check.
    static Result<Task> create(TaskSpec spec);
    // After an agent restart: statuses only move forward from the snapshot; a container the
    // runtime no longer knows is STOPPED ("vanished"), one that exited gets its exit code, one
    // that exists although the record says otherwise is adopted. Answers awaited before the
    // crash are lost, so begin() sends those actions again: Provision, Deprovision and PullImage
    // must be idempotent, and Create is re-sent only for a container the runtime does not know.
    static Result<Task> restore(TaskSpec spec, TaskState saved, const std::vector<Observed>& seen,
                                Time now);

    std::vector<Action> begin(Time now); // the first actions (and, after restore, the resumed ones)
    std::vector<Action> handle(const Event& event, Time now);
    std::vector<Action> on_timer(Time now); // call at next_deadline() (early calls are harmless)
    std::vector<Action> stop(std::string reason, Time now); // desired STOPPED (StopTask)
    std::optional<Time> next_deadline() const;

    const TaskSpec& spec() const;
    const TaskState& state() const; // what the agent persists, before performing the actions
    bool finished() const;          // STOPPED and removed: the records can go

    Task(Task&&) noexcept;
    Task& operator=(Task&&) noexcept;
    ~Task();

    struct Machine; // internal (agent/engine/machine.hpp); public only for the .cpp helpers

private:
    explicit Task(std::unique_ptr<Machine> machine);
    std::unique_ptr<Machine> m_;
};

} // namespace berth::engine
