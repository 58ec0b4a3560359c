// agent/daemon/containers.hpp — one container's blocking work, run on a worker: the rootfs,
// the OCI spec (agent/taskdef) and the runtime's create; health probes; removal. Internal.
#pragma once
#include <map>
#include <memory>
#include <set>
#include <string>
#include "agent/daemon/internal.hpp"

namespace berth::daemon {

// Host directory of each volume of the task (bind source, or one berth makes).
std::map<std::string, std::string> volume_paths(const taskdef::TaskDefinition& def,
                                                const std::string& volumes_dir,
                                                const std::string& task_id);

struct CreateInput {
    taskdef::TaskDefinition def;
    std::string container; // its name
    image::ImageRecord image;
    std::string runtime_id;
    std::string netns_path, files_dir, hostname;
    std::map<std::string, std::string> volume_paths;
    std::string log_path, bundle_dir;
    std::vector<std::string> extra_env; // "KEY=value" berthd adds (the metadata URIs)
    std::string task_arn, cluster, task_definition_arn; // logDriver journald's fields
    std::string ipc_ns_path, shared_shm_dir;            // ipcMode task: the task's (task_ipc.hpp)
    std::string init_path;     // BERTH_INIT_PATH, bound in for initProcessEnabled
    std::string pid_ns_path{}; // pidMode task: the pause's namespace, held (task_pid.hpp)
};
struct Made {
    std::shared_ptr<runtime::Container> container;
};
// Mounts the rootfs, builds and writes the spec, creates the container. On failure nothing is
// left behind (the rootfs handle unmounts, the bundle is removed); on success the rootfs is
// kept (it outlives berthd and this answer: Remove adopts and unmounts it).
Result<Made> create_container(const image::Store& images, const runtime::Options& rt,
                              const CreateInput& in);
// Removes one container and what it left (a Leftover): the runtime's container (force: a live
// one is killed), then, only once that is gone, its kept rootfs (never unmounted under a
// container that still exists), its bundle directory and its json-file logs. Whatever is
// already gone (ENOENT) counts as removed, so it can be retried and repeated after a restart.
Result<void> remove_leftover(const image::Store& images, const runtime::Options& rt,
                             const Leftover& leftover);
// The task's own cgroup (task_cgroup.cpp): <cgroup root>/<task-id>. make_task_cgroup makes it with
// `limits`, or adopts it and writes them again (Provision is re-sent after a restart);
// remove_task_cgroup removes it (and anything left in it) once the task's containers are gone,
// and counts a missing one as removed. A container's linux.cgroupsPath is below it when it
// exists ("<task-id>/<runtime-id>"), else "<runtime-id>".
Result<void> make_task_cgroup(const runtime::Options& rt, const std::string& task_id,
                              const cgroups::Resources& limits);
Result<void> remove_task_cgroup(const runtime::Options& rt, const std::string& task_id);
std::string container_cgroups_path(const runtime::Options& rt, const std::string& task_id,
                                   const std::string& runtime_id);
// The task ids of the task cgroups below the cgroup root of no task in `keep` (pure.hpp's
// stale_task_cgroups over the root's child cgroups): a few directory reads.
Result<std::vector<std::string>> find_stale_task_cgroups(const runtime::Options& rt,
                                                         const std::set<std::string>& keep);
// Runs an ECS health check command ("CMD", args... / "CMD-SHELL", text) in the container:
// healthy when it exits 0 within timeout (then it is killed).
Result<bool> run_probe(const runtime::Options& rt, runtime::Container& container,
                       const std::vector<std::string>& command, std::chrono::milliseconds timeout);

} // namespace berth::daemon
