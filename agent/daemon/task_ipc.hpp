// agent/daemon/task_ipc.hpp — ipcMode "task": the task's IPC namespace and /dev/shm, made before
// its first container and removed with its network. Both live under <runtime_dir>/tasks/<task-id>:
// `ipc`, a file the namespace is bind-mounted on (held without a process, as net/ holds a task's
// netns), and `shm`, a tmpfs every container binds as its /dev/shm. Runs as root on the host, in
// berthd's mount namespace (the one berth-supervisor creates containers from). Internal.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>
#include "base/result.hpp"

namespace berth::daemon {

struct TaskIpc {
    std::string dir; // <tasks_dir>/<task_id>
    std::string ns_path() const { return dir + "/ipc"; }
    std::string shm_dir() const { return dir + "/shm"; }
};
TaskIpc task_ipc(const std::string& tasks_dir, const std::string& task_id);

// Makes the namespace (on a short-lived thread that unshares it: no thread of berthd changes
// namespace) and mounts the tmpfs (mode 1777, nosuid, nodev, noexec, `shm_mib` MiB). Idempotent:
// Provision is sent again after a restart, and what is already there is kept (the task's
// running containers use it). On failure nothing of it is left.
Result<void> make_task_ipc(const TaskIpc& ipc, std::uint32_t shm_mib);
// Unmounts and removes both and the directory; whatever is already gone counts as removed.
Result<void> remove_task_ipc(const TaskIpc& ipc);
// At restore: the ids under tasks_dir not in `keep` (a crash between a task's end and its
// Deprovision answer, or a task berthd no longer knows), for remove_task_ipc.
std::vector<std::string> stale_task_ipc(const std::string& tasks_dir,
                                        const std::set<std::string>& keep);

} // namespace berth::daemon
