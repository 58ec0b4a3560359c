// agent/daemon/containers.cpp — the engine's container actions on the loop side: Create, Start,
// Signal, HealthProbe and Remove hand their blocking part to a worker (container_work.cpp) and
// turn its answer into an engine event; a started container's exit is an asio wait on its
// ProcessHandle::wait_fd() (the supervisor's exit pipe), then try_reap() for the exit record.
#include <poll.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include "agent/daemon/containers.hpp"
#include "agent/daemon/task_ipc.hpp"
#include "agent/daemon/task_pid.hpp"
#include "base/log.hpp"

namespace berth::daemon {
namespace {

engine::Event event(engine::EventKind kind, std::string container, std::string reason = {})
{
    return engine::Event{kind, std::move(container), 0, false, std::move(reason)};
}

// Its pidfd is not readable (readable: it exited). No pidfd: not known to be alive.
bool alive(const runtime::ProcessHandle& process)
{
    if (process.pidfd() < 0)
        return false;
    pollfd p{process.pidfd(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
}

} // namespace

void Daemon::Impl::container_action(TaskEntry& task, std::size_t index,
                                    const engine::Action& action)
{
    auto& c = task.containers[index];
    switch (action.kind) {
    case engine::ActionKind::Create: return create(task, index);
    case engine::ActionKind::Start: return start(task, index);
    case engine::ActionKind::HealthProbe: return probe(task, index, action.timeout);
    case engine::ActionKind::Remove: return remove(task, index);
    case engine::ActionKind::Signal:
        // pidfd_send_signal: never blocks, never reaches a reused pid. ESRCH: it already
        // exited and the exit watch reports it.
        if (c.container && c.container->init().valid())
            if (auto r = c.container->init().signal(action.signal); !r && r.error().code != ESRCH)
                log::warn("cannot signal container, continuing",
                          {{"container", c.runtime_id}, {"error", r.error().message()}});
        return;
    default: return;
    }
}

void Daemon::Impl::create(TaskEntry& task, std::size_t index)
{
    auto& c = task.containers[index];
    const auto& name = task.def.containers[index].name;
    if (!c.image) { // posted: apply() is still running over this call's actions
        asio::post(io, [this, arn = task.record.arn, name,
                        image = task.def.containers[index].image] {
            deliver(arn,
                    event(engine::EventKind::CreateFailed, name,
                          cat("no image ", quoted(image), " pulled for container ", quoted(name))));
        });
        return;
    }
    const auto task_id = task_id_of(task.record.arn);
    CreateInput in{task.def,
                   name,
                   *c.image,
                   c.runtime_id,
                   task.network ? task.network->netns_path : "",
                   task.network ? task.network->files_dir : "",
                   task_id,
                   volume_paths(task.def, paths.volumes(), task_id),
                   cat(paths.logs(), "/", task_id, "/", name, ".log"),
                   cat(paths.bundles(), "/", c.runtime_id),
                   options.metadata_key.empty()
                       ? std::vector<std::string>()
                       : api::metadata_environment(options.metadata_key, task.record.arn, name),
                   task.record.arn,
                   task.record.cluster,
                   task.record.task_definition_arn,
                   {},
                   {},
                   options.config.init_path};
    if (task.def.ipc_mode == taskdef::NamespaceMode::Task) { // made by Provision
        const auto ipc = task_ipc(paths.tasks(), task_id);
        in.ipc_ns_path = ipc.ns_path();
        in.shared_shm_dir = ipc.shm_dir();
    }
    if (task.def.pid_mode == taskdef::NamespaceMode::Task) // held by Provision's pause
        in.pid_ns_path = task_pause(paths.tasks(), task_id).ns_path();
    offload([this, in = std::move(in)] { return create_container(images, rt, in); },
            [this, arn = task.record.arn, index, name](Result<Made> made) {
                auto* t = find(arn);
                if (!made) {
                    deliver(arn, event(engine::EventKind::CreateFailed, name,
                                       cat("create: ", made.error().message())));
                    return;
                }
                if (t == nullptr) { // finished while the create ran: nobody will remove it
                    discard(made->container);
                    return;
                }
                t->containers[index].container = std::move(made->container);
                deliver(arn, event(engine::EventKind::Created, name));
                // A late answer (the engine timed the Create out): the engine holds the
                // container as never made, so no Remove would come for it.
                if (auto* after = find(arn);
                    after != nullptr && late_created(after->engine->state(), index)) {
                    log::warn("a container created after its Create timed out: removing it",
                              {{"task", arn}, {"container", name}});
                    remove(*after, index);
                }
            });
}

void Daemon::Impl::start(TaskEntry& task, std::size_t index)
{
    auto container = task.containers[index].container;
    const auto& name = task.def.containers[index].name;
    if (!container) { // posted: apply() is still running over this call's actions
        asio::post(io, [this, arn = task.record.arn, name, id = task.containers[index].runtime_id] {
            deliver(arn, event(engine::EventKind::StartFailed, name,
                               cat("container ", quoted(id), " was not created")));
        });
        return;
    }
    offload([container] { return container->start(); },
            [this, arn = task.record.arn, index, name, container](const Result<void>& r) {
                auto* t = find(arn);
                if (t == nullptr) {
                    // Its task timed the Start out and is STOPPED (kept compact: stopped.cpp)
                    // or finished: as a late answer below, the process must not run on unseen.
                    if (r) {
                        log::warn("a container started after its task stopped: killing it",
                                  {{"task", arn}, {"container", name}});
                        (void)container->init().signal(SIGKILL);
                    }
                    return;
                }
                if (!r) {
                    deliver(arn, event(engine::EventKind::StartFailed, name,
                                       cat("start: ", r.error().message())));
                    return;
                }
                watch_exit(*t, index);
                deliver(arn, event(engine::EventKind::Started, name));
                // A late answer (the engine timed the Start out and holds it as failed): the
                // process must not run on unseen; its exit is then ignored by the engine.
                auto* after = find(arn);
                if (after != nullptr && after->containers[index].container &&
                    late_started(after->engine->state(), index)) {
                    log::warn("a container started after its Start timed out: killing it",
                              {{"task", arn}, {"container", name}});
                    (void)after->containers[index].container->init().signal(SIGKILL);
                }
            });
}

void Daemon::Impl::watch_exit(TaskEntry& task, std::size_t index)
{
    auto& c = task.containers[index];
    const int fd = ::dup(c.container->init().wait_fd());
    if (fd < 0) {
        log::error(Error::from_errno("dup wait fd"), "cannot watch a container's exit",
                   {{"container", c.runtime_id}});
        return;
    }
    c.watch = std::make_unique<asio::posix::stream_descriptor>(io, fd);
    c.watch->async_wait(
        asio::posix::stream_descriptor::wait_read,
        [this, arn = task.record.arn, index](const boost::system::error_code& ec) {
            auto* t = find(arn);
            if (ec || t == nullptr || !t->containers[index].container)
                return;
            auto& tc = t->containers[index];
            auto record = tc.container->init().try_reap();
            if (record && !*record) { // woken early: wait again
                watch_exit(*t, index);
                return;
            }
            tc.watch.reset();
            if (!record && alive(tc.container->init())) {
                // The supervisor died (its exit pipe closed) but the container did not: it is
                // not Exited. A new supervisor is asked to watch it (load), then we wait again.
                log::error(record.error(),
                           "lost the exit watch of a live container: restarting "
                           "berth-supervisor and watching it again",
                           {{"container", tc.runtime_id}});
                rewatch(arn, index);
                return;
            }
            engine::Event e{engine::EventKind::Exited, t->def.containers[index].name, 0, false, {}};
            if (record) {
                auto report = exit_report(**record);
                e.exit_code = report.code;
                e.reason = std::move(report.reason);
            } else {
                e.exit_code = 137;
                e.reason = cat("exit status unknown: ", record.error().message());
            }
            deliver(arn, e);
        });
}

void Daemon::Impl::rewatch(const std::string& arn, std::size_t index)
{
    auto* t = find(arn);
    if (t == nullptr)
        return;
    offload(
        [this, id = t->containers[index].runtime_id]() -> Result<runtime::Container> {
            {
                const std::lock_guard lock(supervisor_mutex); // one spawn, not one per watch
                if (auto r = ensure_supervisor(options, paths); !r)
                    return std::move(r).error();
            }
            return runtime::Container::load(rt, id);
        },
        [this, arn, index](Result<runtime::Container> loaded) {
            auto* t = find(arn);
            if (t == nullptr || !t->containers[index].container)
                return; // finished or removed meanwhile
            auto& tc = t->containers[index];
            if (!loaded) {
                log::error(loaded.error(), "cannot watch a live container again, retrying in 5 s",
                           {{"container", tc.runtime_id}});
                auto timer = std::make_shared<asio::system_timer>(io, std::chrono::seconds(5));
                timer->async_wait([this, arn, index, timer](const boost::system::error_code& ec) {
                    if (!ec)
                        rewatch(arn, index);
                });
                return;
            }
            tc.container = std::make_shared<runtime::Container>(std::move(*loaded));
            watch_exit(*t, index);
        });
}

void Daemon::Impl::probe(TaskEntry& task, std::size_t index, engine::Duration timeout)
{
    auto container = task.containers[index].container;
    const auto& def = task.def.containers[index];
    if (!container || !def.health_check)
        return;
    offload_on(
        probe_workers.get_executor(),
        [this, container, command = def.health_check->command, timeout] {
            return run_probe(rt, *container, command, timeout);
        },
        [this, arn = task.record.arn, name = def.name](Result<bool> healthy) {
            engine::Event e{engine::EventKind::HealthResult, name, 0, false, {}};
            e.healthy = healthy && *healthy;
            if (!healthy)
                e.reason = healthy.error().message();
            deliver(arn, e);
        });
}

void Daemon::Impl::discard(const std::shared_ptr<runtime::Container>& container)
{
    log::warn("a container no task holds: removing it", {{"container", container->id()}});
    Leftover l;
    l.runtime_id = container->id();
    l.container = container;
    l.bundle_dir = cat(paths.bundles(), "/", l.runtime_id);
    offload([this, l] { return remove_leftover(images, rt, l); },
            [id = l.runtime_id](const Result<void>& r) {
                if (!r)
                    log::error(r.error(), "cannot remove a container no task holds, leaving it",
                               {{"container", id}});
            });
}

// A container the engine holds as never made (a late Create answer): removed now, while the
// task goes on. Its lease stays with the task (released at the task's cleanup, which also
// removes by id whatever this removal could not).
void Daemon::Impl::remove(TaskEntry& task, std::size_t index)
{
    const auto l = leftover_of(task, index);
    auto& c = task.containers[index];
    c.container.reset();
    c.watch.reset();
    offload([this, l] { return remove_leftover(images, rt, l); },
            [id = l.runtime_id](const Result<void>& r) {
                if (!r)
                    log::warn("cannot remove container, the task's cleanup retries",
                              {{"container", id}, {"error", r.error().message()}});
            });
}

} // namespace berth::daemon
