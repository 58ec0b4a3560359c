// agent/daemon/task_cgroup.cpp — a task's own cgroup (ECS_ENABLE_TASK_CPU_MEM_LIMIT, as the ECS
// agent's /ecs/<task-id>): <cgroup root>/<task-id>, made at Provision when the task has task-level
// cpu or memory and limited to them, with its containers' cgroups below it, so that the task's
// memory and CPU bound all its containers together while each container's own limits still apply
// below. Removed at the task's cleanup, once its containers' cgroups are gone. Nothing of it is
// stored: it is found again by its path after a restart (a re-sent Provision adopts it, a resumed
// cleanup removes it), and a task is only written finished once it is gone; one a task no longer
// unfinished left (its record gone, or written finished) is found at restore by its name below
// the root. The blocking parts run on workers. Runs as root on the host: it writes only below
// berthd's cgroup root.
#include <algorithm>
#include <cerrno>
#include "agent/daemon/containers.hpp"

namespace berth::daemon {
namespace {

// The ECS agent's CPU period (ECS_CGROUP_CPU_PERIOD's default, 100 ms), in microseconds.
constexpr std::uint64_t cpu_period_us = 100000;
constexpr std::uint64_t max_cpu_shares = 262144; // the kernel's cpu.shares ceiling

Result<std::string> task_cgroup_path(const runtime::Options& rt, const std::string& task_id)
{
    // A relative path: below the runtime's cgroup root, which berthd gives it (BERTH_CGROUP_ROOT).
    return runtime::cgroup_path_for(rt, task_id, task_id);
}

} // namespace

std::optional<cgroups::Resources> task_cgroup_resources(const taskdef::TaskDefinition& def)
{
    if (!def.cpu && !def.memory)
        return std::nullopt;
    cgroups::Resources r;
    cgroups::Cpu cpu;
    if (def.cpu) {
        // cpu/1024 CPUs' worth of time in every period: "512" is 50 ms of each 100 ms.
        cpu.period = cpu_period_us;
        cpu.quota =
            static_cast<std::int64_t>(static_cast<std::uint64_t>(*def.cpu) * cpu_period_us / 1024);
    } else {
        // No task cpu: the task weighs what its containers weighed side by side (each at least
        // 2, as build_linux gives them), so nesting them changes no task's share of the host.
        std::uint64_t shares = 0;
        for (const auto& c : def.containers)
            shares += static_cast<std::uint64_t>(std::max(2, c.cpu.value_or(0)));
        cpu.shares = std::clamp<std::uint64_t>(shares, 2, max_cpu_shares);
    }
    r.cpu = cpu;
    if (def.memory) {
        cgroups::Memory memory;
        memory.limit = std::int64_t{*def.memory} << 20; // MiB
        r.memory = memory;
    }
    return r;
}

std::string container_cgroups_path(const runtime::Options& rt, const std::string& task_id,
                                   const std::string& runtime_id)
{
    // Whether the task has a cgroup, not the configuration now: a task keeps the layout its
    // Provision chose (the key may have changed over a restart since), and a Create answered
    // after the task's cleanup removed it makes a cgroup its removal takes away whole.
    auto path = task_cgroup_path(rt, task_id);
    if (path && cgroups::Cgroup::open(*path))
        return cat(task_id, "/", runtime_id);
    return runtime_id;
}

Result<void> make_task_cgroup(const runtime::Options& rt, const std::string& task_id,
                              const cgroups::Resources& limits)
{
    auto path = task_cgroup_path(rt, task_id);
    if (!path)
        return std::move(path).error();
    // Provision is re-sent after a restart: an existing one is adopted and its limits written
    // again (the same values).
    auto cgroup = cgroups::Cgroup::create(*path, limits);
    if (!cgroup)
        return std::move(cgroup).error();
    return {};
}

Result<void> remove_task_cgroup(const runtime::Options& rt, const std::string& task_id)
{
    auto path = task_cgroup_path(rt, task_id);
    if (!path)
        return std::move(path).error();
    // berthd's own, made for this task alone, and none of its containers is left: anything
    // still in it is the task's and goes with it (killed, as the runtime does with a
    // container's cgroup it created), then the directories, in every hierarchy.
    auto cgroup = cgroups::Cgroup::open(*path, cgroups::Ownership{true, {}});
    if (!cgroup)
        return cgroup.error().code == ENOENT ? Result<void>() : std::move(cgroup).error();
    return cgroup->destroy();
}

Result<std::vector<std::string>> find_stale_task_cgroups(const runtime::Options& rt,
                                                         const std::set<std::string>& keep)
{
    // The root every task cgroup is made below (task_cgroup_path: a relative path).
    auto root = cgroups::normalize_path(rt.cgroup_root, true);
    if (!root)
        return std::move(root).error().wrap("cgroup root");
    auto children = cgroups::child_cgroups(*root);
    if (!children)
        return std::move(children).error();
    return stale_task_cgroups(*children, keep);
}

} // namespace berth::daemon
