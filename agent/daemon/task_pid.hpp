// agent/daemon/task_pid.hpp — pidMode "task": the task's pid namespace. A pid namespace ends
// with its PID 1 (the kernel SIGKILLs everything left in it), so it is held by berth-pause
// (agent/pause), a runtime container of its own made at Provision through berth-supervisor like
// every container (it outlives berthd, and the supervisor reaps and records it), as the ECS
// agent holds a task's namespaces with its pause container. Its namespace is bind-mounted on
// <runtime_dir>/tasks/<task-id>/pid (next to task_ipc.hpp's files), the path every container of
// the task joins: it names that one namespace whatever happens to the pause's pid, and survives a
// berthd restart as it is. If the pause dies, the kernel kills the task's containers (an
// essential exit stops the task) and a container created later fails (no process can enter a
// dead pid namespace). Removed at Deprovision, by a failed Provision, and at restore when its
// task is finished or unknown. Runs as root on the host. Internal.
#pragma once
#include <string>
#include <string_view>
#include "agent/daemon/pure.hpp"
#include "base/result.hpp"
#include "runtime/runtime.hpp"

namespace berth::daemon {

struct TaskPause {
    std::string task_id;
    std::string dir; // <tasks_dir>/<task_id>, shared with task_ipc.hpp
    std::string runtime_id() const { return pause_id_of(task_id); }
    std::string ns_path() const { return dir + "/pid"; }
    std::string bundle() const { return dir + "/pause"; } // config.json (while created), rootfs/
};
TaskPause task_pause(const std::string& tasks_dir, const std::string& task_id);
// berth-pause next to berthd, in ../libexec/berth from it, at its install path, or in the build
// tree; "" if none is executable.
std::string find_pause_binary();

// Starts the pause (the binary bound into an empty read-only rootfs, new pid, mount, IPC and UTS
// namespaces, no capabilities, linux.cgroupsPath `cgroups_path`) and binds its namespace on
// ns_path(). Idempotent: Provision is sent again after a restart, and a running pause whose
// namespace is held is kept (the task's containers may be in it). On failure nothing of it is
// left.
Result<void> make_task_pause(const runtime::Options& rt, const TaskPause& pause,
                             const std::string& binary, const std::string& cgroups_path);
// Kills and removes the pause's container (its cgroup with it), unmounts and removes ns_path(),
// removes the bundle, and the task's directory if nothing else is in it. Whatever is already
// gone counts as removed.
Result<void> remove_task_pause(const runtime::Options& rt, const TaskPause& pause);

} // namespace berth::daemon
