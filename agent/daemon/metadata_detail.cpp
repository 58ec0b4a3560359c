// agent/daemon/metadata_detail.cpp — the ControlPlane's task metadata extras (api.hpp,
// container_stats.hpp): a container's image id and lifecycle times, read on the loop from the
// engine's state; and one statistics sample, whose location (runtime and task id, network mode)
// comes from the loop while its reads (the cgroup's files, /proc/stat, the init's
// /proc/<pid>/net/dev) run on the caller's thread (the metadata server's), never on the loop.
#include <unistd.h>
#include <sys/sysinfo.h>
#include <cerrno>
#include "agent/daemon/containers.hpp"
#include "agent/daemon/proc_stats.hpp"
#include "base/files.hpp"
#include "base/strings.hpp"
#include "cgroups/cgroups.hpp"

namespace berth::daemon {
namespace {

std::optional<std::int64_t> ms(const std::optional<engine::Time>& t)
{
    return t ? std::optional<std::int64_t>(t->count()) : std::nullopt;
}

std::vector<api::ContainerDetail> details_of(const std::vector<std::string>& names,
                                             const engine::TaskState& state)
{
    std::vector<api::ContainerDetail> out;
    for (std::size_t i = 0; i < names.size() && i < state.containers.size(); ++i) {
        const auto& c = state.containers[i];
        out.push_back({names[i], "", ms(c.created_at), ms(c.started_at), ms(c.finished_at)});
    }
    return out;
}

// The names and times of a task's containers from its stored record and engine snapshot.
std::vector<api::ContainerDetail> stored_details(const store::Task& record)
{
    auto state = state_from_json(record.engine_state);
    if (!state)
        return {};
    std::vector<std::string> names;
    for (const auto& c : record.containers)
        names.push_back(c.name);
    return details_of(names, *state);
}

// What the loop knows of a live container: enough to find its cgroup and network namespace.
struct Where {
    std::string runtime_id, task_id;
    bool own_netns = false; // bridge or awsvpc: the task's netns, whose counters are shown
    runtime::Options rt;
};

std::uint64_t host_memory()
{
    struct sysinfo info {};
    if (::sysinfo(&info) != 0)
        return 0;
    return static_cast<std::uint64_t>(info.totalram) * info.mem_unit;
}

void add_cgroup(api::ContainerSample& s, const cgroups::Stats& st, const cgroups::StatsDetail& d)
{
    s.cpu_total = st.cpu_usage_usec * 1000;
    s.cpu_user = st.cpu_user_usec * 1000;
    s.cpu_system = st.cpu_system_usec * 1000;
    s.percpu_usage = d.percpu_usage_ns;
    s.cpu_periods = d.cpu_periods;
    s.throttled_periods = st.cpu_throttled_periods;
    s.throttled_time = st.cpu_throttled_usec * 1000;
    s.memory_usage = st.memory_usage;
    s.memory_max_usage = st.memory_max_usage;
    s.memory_limit = st.memory_limit != 0 ? st.memory_limit : host_memory();
    s.memory_stat = d.memory_stat;
    s.pids_current = st.pids_current;
    s.pids_limit = st.pids_limit;
    for (const auto& dev : d.devices)
        s.block_io.push_back(
            {dev.major, dev.minor, dev.read_bytes, dev.write_bytes, dev.reads, dev.writes});
}

// The init's view of its netns (/proc/<pid>/net/dev): no setns, and the same interfaces every
// container of the task shares. A container that just exited has no pid: no network figures.
// The /proc/<pid> directory is opened first and the pid checked again after: an open /proc
// directory stays with the process it was opened for (reads fail once it is gone), and the
// second check says that process is still the container's init, so a pid recycled between the
// first look and the open is never read as the container's.
std::vector<api::ContainerSample::Interface> init_interfaces(const Where& where)
{
    auto first = runtime::state(where.rt, where.runtime_id);
    if (!first || first->pid <= 0)
        return {};
    const Fd proc(::open(cat("/proc/", first->pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto again = runtime::state(where.rt, where.runtime_id);
    if (!proc.valid() || !again || again->pid != first->pid)
        return {};
    auto dev = read_file_at(proc.get(), "net/dev");
    return dev ? net_dev_interfaces(*dev) : std::vector<api::ContainerSample::Interface>{};
}

// The reads, off the loop. nullopt when the container has no cgroup (not created, or gone).
Result<std::optional<api::ContainerSample>> sample(const Where& where)
{
    auto path = runtime::cgroup_path_for(
        where.rt, container_cgroups_path(where.rt, where.task_id, where.runtime_id),
        where.runtime_id);
    if (!path)
        return std::move(path).error();
    auto cgroup = cgroups::Cgroup::open(*path);
    if (!cgroup && cgroup.error().code == ENOENT)
        return std::optional<api::ContainerSample>{};
    if (!cgroup)
        return std::move(cgroup).error();
    api::ContainerSample s;
    s.read = std::chrono::system_clock::now();
    auto stats = cgroup->stats();
    auto detail = cgroup->stats_detail();
    if (!stats || !detail)
        return !stats ? std::move(stats).error() : std::move(detail).error();
    add_cgroup(s, *stats, *detail);
    auto proc_stat = read_file("/proc/stat");
    if (!proc_stat)
        return std::move(proc_stat).error();
    auto system = system_cpu_ns(*proc_stat, ::sysconf(_SC_CLK_TCK));
    if (!system)
        return std::move(system).error();
    s.system_cpu_usage = *system;
    const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
    s.online_cpus = online > 0 ? static_cast<std::uint32_t>(online) : 1;
    if (where.own_netns)
        s.networks = init_interfaces(where);
    return std::optional<api::ContainerSample>(std::move(s));
}

// Where a STOPPED task's container is, if it is kept compact (stopped.cpp) and the runtime had
// it: its cgroup stays until the cleanup removes it, so it is sampled as before the compaction.
Result<std::optional<Where>> stopped_where(Daemon::Impl& impl, const std::string& task_arn,
                                           const std::string& container)
{
    const auto s = impl.stopped_tasks.find(std::string_view(task_arn));
    if (s == impl.stopped_tasks.end())
        return std::optional<Where>{};
    auto record = impl.store.task(task_arn);
    if (!record)
        return std::move(record).error();
    if (!*record)
        return std::optional<Where>{};
    const auto& containers = (*record)->containers;
    for (std::size_t i = 0; i < containers.size() && i < s->second.containers.size(); ++i)
        if (containers[i].name == container && s->second.containers[i].made)
            return std::optional<Where>(Where{containers[i].runtime_id, task_id_of(task_arn),
                                              s->second.own_netns, impl.rt});
    return std::optional<Where>{};
}

} // namespace

Result<std::vector<api::ContainerDetail>> Daemon::container_details(const std::string& task_arn)
{
    return impl_->on_loop<std::vector<api::ContainerDetail>>(
        [this, task_arn]() -> Result<std::vector<api::ContainerDetail>> {
            if (auto* task = impl_->find(task_arn); task && task->engine) {
                std::vector<std::string> names;
                for (const auto& c : task->record.containers)
                    names.push_back(c.name);
                auto out = details_of(names, task->engine->state());
                for (std::size_t i = 0; i < out.size() && i < task->containers.size(); ++i)
                    if (const auto& image = task->containers[i].image)
                        out[i].image_id = image_id(image->config_digest);
                return out;
            }
            // A STOPPED task kept compact (stopped.cpp): the store's record and last snapshot
            // have the names and times, the compact record the ImageIDs.
            if (const auto s = impl_->stopped_tasks.find(std::string_view(task_arn));
                s != impl_->stopped_tasks.end()) {
                auto record = impl_->store.task(task_arn);
                if (!record)
                    return std::move(record).error();
                if (!*record)
                    return std::vector<api::ContainerDetail>{};
                auto out = stored_details(**record);
                for (std::size_t i = 0; i < out.size() && i < s->second.containers.size(); ++i)
                    out[i].image_id = s->second.containers[i].image_id;
                return out;
            }
            // A finished task being cleaned up: its last snapshot has the times.
            const auto it = impl_->cleanups.find(task_arn);
            if (it == impl_->cleanups.end())
                return std::vector<api::ContainerDetail>{};
            return stored_details(it->second->record);
        });
}

Result<std::optional<api::ContainerSample>> Daemon::container_sample(const std::string& task_arn,
                                                                     const std::string& container)
{
    auto where = impl_->on_loop<std::optional<Where>>(
        [this, task_arn, container]() -> Result<std::optional<Where>> {
            auto* task = impl_->find(task_arn);
            if (!task)
                return stopped_where(*impl_, task_arn, container);
            for (std::size_t i = 0; i < task->record.containers.size(); ++i) {
                if (task->record.containers[i].name != container || i >= task->containers.size() ||
                    !task->containers[i].container)
                    continue;
                const auto mode = task->def.network();
                return std::optional<Where>(Where{
                    task->containers[i].runtime_id, task_id_of(task_arn),
                    mode == taskdef::NetworkMode::Bridge || mode == taskdef::NetworkMode::Awsvpc,
                    impl_->rt});
            }
            return std::optional<Where>{};
        });
    if (!where)
        return std::move(where).error();
    if (!*where)
        return std::optional<api::ContainerSample>{};
    return sample(**where);
}

} // namespace berth::daemon
