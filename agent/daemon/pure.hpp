// agent/daemon/pure.hpp — the daemon's pure pieces (no I/O), internal but unit-tested: RunTask
// overrides applied to a task definition, a task definition as the engine's TaskSpec, the
// engine's TaskState as JSON for the store, and a store record refreshed from the engine state.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>
#include "agent/config/config.hpp"
#include "agent/daemon/journal_fields.hpp" // logDriver journald (use_journald)
#include "agent/daemon/daemon.hpp"
#include "agent/daemon/proc_stats.hpp"
#include "agent/engine/engine.hpp"
#include "agent/engine/resources.hpp"
#include "agent/store/store.hpp"
#include "agent/taskdef/taskdef.hpp"
#include "base/result.hpp"
#include "image/image.hpp"
#include "net/net.hpp"
#include "runtime/handles.hpp"

namespace berth::daemon {

// RunTask's "overrides" object (JSON text) applied to def: containerOverrides (name, command,
// environment merged by name, cpu, memory, memoryReservation) and task-level cpu/memory. Any
// other field is refused by name (bad_input), never ignored.
Result<void> apply_overrides(taskdef::TaskDefinition& def, std::string_view overrides_json);

// The engine's view of a task definition, timeouts from the configuration.
engine::TaskSpec task_spec(const taskdef::TaskDefinition& def, const std::string& task_arn,
                           const config::Config& config);
// How berthd pulls (pull_options.cpp): the registry keys of the configuration (plain http
// hosts, CA file, mirrors, ECS_ENGINE_AUTH_DATA, the Docker config.json).
image::PullOptions pull_options(const config::Config& config);
// What admission holds for the task (agent/engine/resources.hpp).
engine::Demand task_demand(const taskdef::TaskDefinition& def);
// Whether the container, or a container of def, sets linuxParameters.initProcessEnabled.
bool wants_init(const taskdef::ContainerDefinition& container);
bool wants_init(const taskdef::TaskDefinition& def);
// RunTask's failures[] detail for a task wanting an init on a node without one at init_path.
std::string missing_init_detail(const std::string& init_path);
// The limits of the task's own cgroup (task_cgroup.cpp, ECS_ENABLE_TASK_CPU_MEM_LIMIT), as the
// ECS agent sets them: memory.limit the task's memory; task cpu as a CFS quota of cpu/1024 CPUs
// per 100 ms period, or without it cpu.shares, the sum of its containers'. nullopt: the task has
// neither cpu nor memory, and no cgroup of its own.
std::optional<cgroups::Resources> task_cgroup_resources(const taskdef::TaskDefinition& def);
// The ports net maps for the task: every container's portMappings (hostPort 0 dynamic).
std::vector<net::PortMapping> port_mappings(const taskdef::TaskDefinition& def);
net::Mode network_mode(const taskdef::TaskDefinition& def);

std::string state_to_json(const engine::TaskState& state);
// Strict: errors name the field (the store's text is read back after a crash).
Result<engine::TaskState> state_from_json(std::string_view text);

// The task id (the ARN's last component) and a container's runtime id "<task-id>-<name>".
std::string task_id_of(std::string_view task_arn);
std::string runtime_id_of(std::string_view task_arn, std::string_view container);
// pidMode task's pause (task_pid.hpp): its runtime id "<task-id>.pause", and back ("" for any
// other id). ECS container names have no '.', so no container's runtime id is taken for one.
std::string pause_id_of(std::string_view task_id);
std::string task_of_pause(std::string_view runtime_id);
// Whether name has the shape of a task id (32 lowercase hex digits, as RunTask makes them): of
// the names below berthd's cgroup root, a task cgroup's, never a container's ("<task-id>-<name>")
// nor a pause's ("<task-id>.pause"), nor anything else. Of `children` (that root's child
// cgroups), the task cgroups of no task in `keep`, the unfinished tasks: for removal at restore.
bool is_task_id(std::string_view name);
std::vector<std::string> stale_task_cgroups(const std::vector<std::string>& children,
                                            const std::set<std::string>& keep);

// The runtime's create options of container `name` of def: its runtime id, bundle and json-file
// log path, rotated as its logConfiguration says (max-size, max-file; the runtime's defaults
// otherwise). Errors name the container and option.
Result<runtime::CreateOptions> create_options(const taskdef::TaskDefinition& def,
                                              std::string_view name, std::string runtime_id,
                                              std::string bundle, std::string log_path);

// Whether `file` (a name in a task's log directory) is the json-file log `log_name` or one of
// its rotated files (<log_name>.<digits>, however many max-file kept).
bool is_log_file_of(std::string_view file, std::string_view log_name);
// Not pure: removes a container's log and every rotated file of it (container_work.cpp). The
// task's log directory is left to the task's cleanup (another container may be creating).
void remove_logs(const std::string& log_path);

// ECS's container lastStatus for an engine container status (PENDING, RUNNING, STOPPED).
std::string container_status_name(engine::ContainerStatus status);
// Refreshes record's statuses, exit codes, reasons, stop code and timestamps (epoch seconds
// `now`, each set once) from the engine's state. record.containers are in spec order.
void update_record(store::Task& record, const engine::TaskState& state, std::int64_t now);
// A container's exit as the engine gets it: the shell-style status and a reason. An exit the
// supervisor could not learn (exit_unknown: it re-adopted the container after a restart, or
// none was running when it ended; the reason says which) is 137, never 0: it must not count
// as success (dependsOn SUCCESS, essential exit codes). An OOM kill is 137 with ECS's
// OutOfMemoryError reason, exit_unknown or not.
struct ExitReport {
    int code = 0;
    std::string reason;
};
ExitReport exit_report(const runtime::ExitRecord& record);
// After the engine handled a Provisioned / Created / Started answer: whether it ignored it as
// late (it had timed the action out and failed the task or container). Then what the answer
// made is the daemon's to undo (no Deprovision / Remove would come; the process would run).
bool late_provisioned(const engine::TaskState& after);
bool late_created(const engine::TaskState& after, std::size_t container);
bool late_started(const engine::TaskState& after, std::size_t container);
// containers[].networkBindings JSON for one container: `resolved` is the task network's
// resolved ports for this container's portMappings, in their order (port_mappings() order).
std::string network_bindings_json(const taskdef::ContainerDefinition& container,
                                  const std::vector<net::PortMapping>& resolved);
// containers[].networkInterfaces JSON (awsvpc): [{"attachmentId", "privateIpv4Address"}].
std::string network_interfaces_json(const std::string& task_id, const std::string& address);

// Not pure either: the pages the compact records of STOPPED tasks live on (page_resource.hpp),
// here for the same seam.
} // namespace berth::daemon
#include "agent/daemon/page_resource.hpp"
namespace berth::daemon {

// Not pure (it spawns berth-supervisor), but here as the tests' one white-box seam: makes sure
// exactly one berth-supervisor serves <runtime_dir>/supervisor.sock (supervisor.cpp).
Result<void> ensure_supervisor_in(const Options& options, const std::string& runtime_dir);

// idempotency.cpp: a RunTask request's canonical text (the same for requests that differ only
// in the order of order-insignificant lists), and its answer as stored with its token.
std::string fingerprint(const api::RunTaskRequest& request);
std::string result_text(const std::vector<store::Task>& tasks,
                        const std::vector<api::Failure>& failures);

} // namespace berth::daemon
