// agent/daemon/actions.cpp — the engine's task-wide actions: Provision (the task network,
// volumes, a shared one without autoprovision only if it exists, ipcMode task's IPC namespace
// and /dev/shm, pidMode task's pause), PullImage (one pull per image through engine::PullQueue, a
// lease per container), Deprovision, and the reports. Container actions are in containers.cpp.
// Anything that blocks runs on a worker and comes back as an engine event.
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <set>
#include "agent/daemon/containers.hpp"
#include "agent/daemon/task_ipc.hpp"
#include "agent/daemon/task_pid.hpp"
#include "base/log.hpp"

namespace berth::daemon {
namespace {

std::size_t index_of(const TaskEntry& task, const std::string& container)
{
    for (std::size_t i = 0; i < task.def.containers.size(); ++i)
        if (task.def.containers[i].name == container)
            return i;
    return task.def.containers.size();
}

engine::Event event(engine::EventKind kind, std::string container = {}, std::string reason = {})
{
    return engine::Event{kind, std::move(container), 0, false, std::move(reason)};
}

// Shared docker volumes the task may use but not make: ECS's autoprovision is false unless
// given, and then the volume must exist already (an earlier task with autoprovision true made
// it); a task naming one that does not fails at provisioning.
std::set<std::string> volumes_not_to_make(const taskdef::TaskDefinition& def)
{
    std::set<std::string> out;
    for (const auto& v : def.volumes)
        if (!v.host_source_path && v.docker && v.docker->scope == taskdef::VolumeScope::Shared &&
            !v.docker->autoprovision.value_or(false))
            out.insert(v.name);
    return out;
}

} // namespace

std::map<std::string, std::string> volume_paths(const taskdef::TaskDefinition& def,
                                                const std::string& volumes_dir,
                                                const std::string& task_id)
{
    std::map<std::string, std::string> out;
    for (const auto& v : def.volumes) {
        if (v.host_source_path)
            out[v.name] = *v.host_source_path;
        else if (v.docker && v.docker->scope == taskdef::VolumeScope::Shared)
            out[v.name] = cat(volumes_dir, "/shared/", v.name);
        else
            out[v.name] = cat(volumes_dir, "/", task_id, "/", v.name);
    }
    return out;
}

void Daemon::Impl::perform(TaskEntry& task, const engine::Action& action)
{
    const auto& arn = task.record.arn;
    switch (action.kind) {
    case engine::ActionKind::Provision: return provision(task);
    case engine::ActionKind::Deprovision: return deprovision(task);
    case engine::ActionKind::PullImage: {
        if (task.record.pull_started_at == 0)
            task.record.pull_started_at = now_s();
        if (pulls.request(action.image, {arn, action.container}) == engine::PullStart::Now)
            start_pull(action.image);
        return;
    }
    case engine::ActionKind::Create:
    case engine::ActionKind::Start:
    case engine::ActionKind::Signal:
    case engine::ActionKind::HealthProbe:
    case engine::ActionKind::Remove: {
        const auto i = index_of(task, action.container);
        if (i < task.containers.size())
            container_action(task, i, action);
        return;
    }
    case engine::ActionKind::ReportTask:
        log::info("task status", {{"task", arn},
                                  {"status", std::string(engine::name_of(action.task_status))},
                                  {"reason", action.reason}});
        return;
    case engine::ActionKind::ReportContainer:
        log::debug("container status",
                   {{"task", arn},
                    {"container", action.container},
                    {"status", std::string(engine::name_of(action.container_status))}});
        return;
    }
}

void Daemon::Impl::provision(TaskEntry& task)
{
    net::TaskRequest request;
    request.task_id = task_id_of(task.record.arn);
    request.mode = network_mode(task.def);
    request.ports = port_mappings(task.def);
    auto volumes = volume_paths(task.def, paths.volumes(), request.task_id);
    auto existing = volumes_not_to_make(task.def);
    std::optional<TaskIpc> ipc;
    if (task.def.ipc_mode == taskdef::NamespaceMode::Task)
        ipc = task_ipc(paths.tasks(), request.task_id);
    std::optional<TaskPause> pause;
    if (task.def.pid_mode == taskdef::NamespaceMode::Task)
        pause = task_pause(paths.tasks(), request.task_id);
    const auto limits =
        options.config.task_cpu_mem_limit ? task_cgroup_resources(task.def) : std::nullopt;
    offload(
        [this, request, volumes, existing, ipc, pause, limits]() -> Result<net::TaskInfo> {
            // Checked before anything is made: a failed Provision gets no Deprovision.
            for (const auto& name : existing) {
                std::error_code ec;
                if (!std::filesystem::is_directory(volumes.at(name), ec))
                    return Error::with_code(ENOENT, "volume ", quoted(name),
                                            ": scope shared with autoprovision false, and no such "
                                            "volume exists");
            }
            // Whatever this Provision made, when it fails: Deprovision will not come.
            const auto undo = [&] {
                if (pause)
                    (void)remove_task_pause(rt, *pause);
                if (ipc)
                    (void)remove_task_ipc(*ipc);
            };
            for (const auto& [name, path] : volumes) {
                if (existing.count(name) != 0)
                    continue;
                std::error_code ec;
                std::filesystem::create_directories(path, ec);
                if (ec)
                    return Error::with_code(ec.value(), "volume ", quoted(name), ": mkdir ",
                                            quoted(path));
            }
            // ipcMode task: the namespace and /dev/shm every container of the task joins.
            // 64 MiB as Docker's: taskdef refuses sharedMemorySize unless ipcMode is private.
            if (ipc)
                if (auto r = make_task_ipc(*ipc, 64); !r)
                    return std::move(r).error();
            // Before the first container's Create, which puts the containers' cgroups below it.
            if (limits)
                if (auto r = make_task_cgroup(rt, request.task_id, *limits); !r) {
                    undo();
                    return std::move(r).error().wrap("task cgroup");
                }
            // pidMode task: the pause holding the namespace every container joins, in the
            // task's cgroup when it has one (removed with it if all else fails).
            if (pause) {
                const auto cgroups_path =
                    container_cgroups_path(rt, request.task_id, pause->runtime_id());
                if (auto r = make_task_pause(rt, *pause, find_pause_binary(), cgroups_path); !r) {
                    undo();
                    return std::move(r).error();
                }
            }
            const std::lock_guard lock(network_mutex);
            if (auto existing = network.find_task(request.task_id)) // Provision is re-sent
                return *existing;                                   // after a restart
            auto added = network.add_task(request);
            if (!added) {
                undo();
                return std::move(added).error().wrap("task network");
            }
            return added;
        },
        [this, arn = task.record.arn](Result<net::TaskInfo> info) {
            auto* t = find(arn);
            if (t == nullptr) {
                if (info)
                    undo_provision(arn);
                return;
            }
            if (!info) {
                deliver(arn, event(engine::EventKind::ProvisionFailed, {}, info.error().message()));
                return;
            }
            t->network = std::move(*info);
            std::size_t first = 0; // this container's first mapping in the network's ports
            for (std::size_t i = 0; i < t->def.containers.size(); ++i) {
                auto& c = t->record.containers[i];
                const auto n = t->def.containers[i].port_mappings.size();
                const auto& all = t->network->ports;
                const std::vector<net::PortMapping> mine(
                    all.begin() + static_cast<std::ptrdiff_t>(std::min(first, all.size())),
                    all.begin() + static_cast<std::ptrdiff_t>(std::min(first + n, all.size())));
                first += n;
                c.network_bindings = network_bindings_json(t->def.containers[i], mine);
                if (t->network->mode == net::Mode::Awsvpc && t->network->address)
                    c.network_interfaces = network_interfaces_json(
                        t->network->task_id, net::format_ipv4(*t->network->address));
            }
            deliver(arn, event(engine::EventKind::Provisioned));
            // A late answer (the engine timed the Provision out and failed the task) is
            // ignored by the engine: no Deprovision will come, so the network goes now.
            if (auto* after = find(arn);
                after != nullptr && late_provisioned(after->engine->state())) {
                log::warn("a task network made after its Provision timed out: removing it",
                          {{"task", arn}});
                after->network.reset();
                undo_provision(arn);
            }
        });
}

void Daemon::Impl::undo_provision(const std::string& arn)
{
    offload(
        [this, id = task_id_of(arn)]() -> Result<void> {
            // No container was created in them: the engine never sent a Create for this task.
            auto pause_removed = remove_task_pause(rt, task_pause(paths.tasks(), id));
            auto ipc_removed = remove_task_ipc(task_ipc(paths.tasks(), id));
            auto cgroup = remove_task_cgroup(rt, id);
            const std::lock_guard lock(network_mutex);
            if (auto r = network.remove_task(id); !r && r.error().code != ENOENT)
                return r;
            if (!cgroup)
                return std::move(cgroup).error().wrap("task cgroup");
            if (!pause_removed)
                return pause_removed;
            return ipc_removed;
        },
        [arn](const Result<void>& r) {
            if (!r)
                log::error(r.error(), "cannot remove a stale task network or cgroup",
                           {{"task", arn}});
        });
}

void Daemon::Impl::deprovision(TaskEntry& task)
{
    const auto id = task_id_of(task.record.arn);
    const auto task_volumes = cat(paths.volumes(), "/", id);
    const bool pid_task = task.def.pid_mode == taskdef::NamespaceMode::Task;
    pulls.forget(task.record.arn);
    for (auto& c : task.containers)
        if (!c.container && c.leased) { // never created: Remove will not release it
            release_lease(c.runtime_id);
            c.leased = false;
        }
    offload(
        [this, id, task_volumes, pid_task]() -> Result<void> {
            std::error_code ec;
            std::filesystem::remove_all(task_volumes, ec);
            // Every container has stopped (the engine deprovisions only then): no process is
            // left in the IPC or pid namespace but the pause, and the containers' mount
            // namespaces are gone. The pause goes first: its files are in the IPC's directory.
            auto pause_removed =
                pid_task ? remove_task_pause(rt, task_pause(paths.tasks(), id)) : Result<void>();
            auto ipc_removed = remove_task_ipc(task_ipc(paths.tasks(), id));
            const std::lock_guard lock(network_mutex);
            if (auto r = network.remove_task(id); !r && r.error().code != ENOENT)
                return r;
            if (!pause_removed)
                return pause_removed;
            return ipc_removed;
        },
        [this, arn = task.record.arn](const Result<void>& r) {
            if (!r)
                log::error(r.error(),
                           "cannot remove the task network, IPC or pid namespace, continuing",
                           {{"task", arn}});
            ledger.release(arn);
            deliver(arn, event(engine::EventKind::Deprovisioned));
        });
}

void Daemon::Impl::take_lease(const std::string& name, const std::string& reference)
{
    asio::post(lease_strand, [this, name, reference] {
        if (auto r = images.take_lease(name, {reference}); !r)
            log::warn("cannot take an image lease, continuing",
                      {{"container", name}, {"error", r.error().message()}});
    });
}

void Daemon::Impl::release_lease(const std::string& name)
{
    asio::post(lease_strand, [this, name] {
        if (auto r = images.release_lease(name); !r && r.error().code != ENOENT)
            log::warn("cannot release an image lease, continuing",
                      {{"container", name}, {"error", r.error().message()}});
    });
}

void Daemon::Impl::start_pull(const std::string& image)
{
    offload_on(
        pull_workers.get_executor(),
        [this, image, how = pull_options(options.config)]() -> Result<image::ImageRecord> {
            if (auto found = images.find(image))
                return found;
            auto ref = image::parse_reference(image);
            if (!ref)
                return std::move(ref).error().wrap(cat("pull ", image));
            return images.pull(*ref, how); // its errors begin "pull <reference>: "
        },
        [this, image](Result<image::ImageRecord> r) {
            auto done = pulls.complete(image);
            for (const auto& waiter : done.waiters) {
                auto* t = find(waiter.task);
                const auto i = t ? index_of(*t, waiter.container) : 0;
                if (t == nullptr || i >= t->containers.size())
                    continue;
                if (!r) {
                    deliver(waiter.task, event(engine::EventKind::PullFailed, waiter.container,
                                               r.error().message()));
                    continue;
                }
                auto& c = t->containers[i];
                c.image = *r;
                take_lease(c.runtime_id, r->reference); // queued before any release of it
                c.leased = true;
                t->record.pull_stopped_at = now_s();
                deliver(waiter.task, event(engine::EventKind::PullDone, waiter.container));
            }
            if (done.next)
                start_pull(*done.next);
        });
}

} // namespace berth::daemon
