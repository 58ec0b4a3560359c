// agent/daemon/restore.cpp — after a restart: every task the store holds as unfinished gets its
// engine back (engine::Task::restore) from the saved snapshot and what runtime::recover() finds
// of its containers: live ones re-adopted (their exits watched again), those that ended while
// berthd was down with their exit records; its network from net's state file. Then begin()
// resumes what was in flight (a half-started task is finished, or stopped if it cannot be). A
// STOPPED task gets its whole entry back here too, and is kept compact again (stopped.cpp).
// ipcMode task's namespaces and /dev/shm mounts, pidMode task's pauses (task_pid.hpp) and task
// cgroups (task_cgroup.cpp) that no unfinished task owns are removed; an unfinished task's pause
// is kept as it is.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string_view>
#include "agent/daemon/containers.hpp"
#include "agent/daemon/task_ipc.hpp"
#include "agent/daemon/task_pid.hpp"
#include "base/log.hpp"

namespace berth::daemon {
namespace {

struct Found {
    std::map<std::string, runtime::Container> live;
    std::map<std::string, std::optional<runtime::ExitRecord>> ended;
};

bool is_running(const runtime::Container& c)
{
    auto state = c.state();
    return state && state->status == runtime::Status::Running;
}

struct Stored {
    std::vector<store::Task> here;   // unfinished tasks of this node's cluster
    std::vector<store::Task> others; // unfinished tasks of other clusters (left alone)
};

Result<Stored> unfinished_tasks(const store::Store& store, const std::string& cluster)
{
    auto clusters = store.clusters();
    if (!clusters)
        return std::move(clusters).error();
    Stored out;
    for (const auto& c : *clusters) {
        store::TaskFilter filter;
        filter.cluster = c.name;
        auto tasks = store.tasks(filter);
        if (!tasks)
            return std::move(tasks).error();
        for (auto& t : *tasks)
            if (!t.engine_state.empty()) // "": finished and removed
                (c.name == cluster ? out.here : out.others).push_back(std::move(t));
    }
    return out;
}

// Whether the runtime has a state directory for id (<root>/<id>, runc's --root layout).
// recover() lists neither as live nor ended a container whose lock a verb holds (berth-runtime
// kill/pause/resume in flight): it exists, its state unknown, and may be running.
bool runtime_has(const runtime::Options& rt, const std::string& id)
{
    std::error_code ec;
    return std::filesystem::exists(cat(rt.root, "/", id), ec) || ec;
}

// A container the runtime does not know: a create cut short by a crash may have mounted its
// rootfs (and written its bundle). Nothing uses them; a new Create mounts afresh.
void remove_half_made(const image::Store& images, const Paths& paths, const std::string& id)
{
    if (auto r = image::Rootfs::remove(images, id); !r && r.error().code != ENOENT)
        log::error(r.error(), "cannot remove the rootfs of a half-made container",
                   {{"container", id}});
    else if (r)
        log::warn("removed the rootfs of a half-made container", {{"container", id}});
    std::error_code ec;
    std::filesystem::remove_all(cat(paths.bundles(), "/", id), ec);
}

// Takes the pauses (task_pid.hpp) out of what recover() found: they belong to no container of
// a task. Those of a task not in `keep` are returned, for removal.
std::set<std::string> take_pauses(Found& found, const std::set<std::string>& keep)
{
    std::set<std::string> stale;
    const auto take = [&](auto& found_map) {
        for (auto it = found_map.begin(); it != found_map.end();) {
            const auto task_id = task_of_pause(it->first);
            if (task_id.empty()) {
                ++it;
                continue;
            }
            if (keep.count(task_id) == 0)
                stale.insert(task_id);
            it = found_map.erase(it); // a live one's handle goes: the pause lives on
        }
    };
    take(found.live);
    take(found.ended);
    return stale;
}

} // namespace

Result<std::unique_ptr<TaskEntry>> Daemon::Impl::entry_for(store::Task record)
{
    const auto& arn = record.task_definition_arn;
    const auto at = arn.find("task-definition/");
    const auto colon = arn.rfind(':');
    if (at == std::string::npos || colon == std::string::npos || colon < at)
        return Error::invalid("task definition ARN ", quoted(arn));
    const auto family = arn.substr(at + 16, colon - at - 16);
    char* end = nullptr;
    const long revision = std::strtol(arn.c_str() + colon + 1, &end, 10);
    if (end == nullptr || *end != '\0' || revision <= 0 || revision > 1'000'000)
        return Error::invalid("task definition ARN ", quoted(arn), ": bad revision");
    auto stored = store.task_definition(family, static_cast<int>(revision));
    if (!stored)
        return std::move(stored).error();
    if (!*stored)
        return Error::with_code(ENOENT, "task definition ", quoted(arn), " is gone");
    // Leniently: a definition an older berth accepted (journald with json-file options) must not
    // leave its task unwatched; RunTask and registration still refuse it.
    std::vector<std::string> warnings;
    auto def = taskdef::parse_stored_task_definition_text((*stored)->body, warnings);
    if (!def)
        return std::move(def).error();
    for (const auto& w : warnings)
        log::warn(w, {{"task", record.arn}});
    if (auto r = apply_overrides(*def, record.overrides); !r)
        return std::move(r).error();
    auto task = std::make_unique<TaskEntry>();
    task->def = std::move(*def);
    for (const auto& c : record.containers)
        task->containers.push_back({c.runtime_id});
    task->record = std::move(record);
    return task;
}

Result<void> Daemon::Impl::restore()
{
    // Tokens that expired while berthd was down (or were never followed by another RunTask).
    if (auto gone = store.prune_client_tokens(now_s() - client_token_lifetime_s); !gone)
        log::warn("cannot prune expired client tokens, continuing",
                  {{"error", gone.error().message()}});
    auto recovered = runtime::recover(rt);
    if (!recovered)
        return std::move(recovered).error().wrap("recover containers");
    Found found;
    for (auto& c : recovered->live) {
        auto id = c.id();
        found.live.emplace(std::move(id), std::move(c));
    }
    for (auto& e : recovered->ended)
        found.ended.emplace(e.id, e.record);
    auto stored = unfinished_tasks(store, options.config.cluster);
    if (!stored)
        return std::move(stored).error().wrap("read tasks");
    std::set<std::string> owned; // runtime ids of every unfinished task, restorable or not
    for (const auto& record : stored->others)
        for (const auto& c : record.containers)
            owned.insert(c.runtime_id);
    std::vector<std::string> live_networks;
    for (auto& record : stored->here) {
        for (const auto& c : record.containers)
            owned.insert(c.runtime_id);
        const auto arn = record.arn;
        // Kept even if the task cannot be restored below: its containers may still run, and
        // net recover() would otherwise tear their network down under them.
        live_networks.push_back(task_id_of(arn));
        auto saved = state_from_json(record.engine_state);
        auto task = saved ? entry_for(std::move(record)) : saved.error();
        if (!task) {
            log::error(task.error(), "cannot restore task, leaving it as it is", {{"task", arn}});
            continue;
        }
        std::vector<engine::Observed> seen;
        for (auto& c : (*task)->containers) {
            engine::Observed o;
            o.container = c.runtime_id.substr(task_id_of(arn).size() + 1);
            if (auto live = found.live.find(c.runtime_id); live != found.live.end()) {
                o.exists = true;
                o.running = is_running(live->second);
                c.container = std::make_shared<runtime::Container>(std::move(live->second));
                found.live.erase(live);
            } else if (auto ended = found.ended.find(c.runtime_id); ended != found.ended.end()) {
                o.exists = true;
                const auto report =
                    ended->second ? exit_report(*ended->second) : ExitReport{137, ""};
                o.exit_code = report.code;
                o.reason = report.reason; // an OOM kill the supervisor saw while berthd was down
                if (ended->second && ended->second->finished_ns > 0)
                    o.finished_at = std::chrono::duration_cast<engine::Time>(
                        std::chrono::nanoseconds(ended->second->finished_ns));
            } else if (runtime_has(rt, c.runtime_id)) {
                // Busy (a verb holds its lock): never remove its rootfs under it. Loaded
                // without the lock, as a handle to watch; if even that fails it is left alone
                // and counts as existing.
                o.exists = true;
                if (auto busy = runtime::Container::load(rt, c.runtime_id)) {
                    o.running = is_running(*busy);
                    c.container = std::make_shared<runtime::Container>(std::move(*busy));
                } else {
                    log::warn("a container is busy in the runtime, leaving it as it is",
                              {{"container", c.runtime_id}, {"error", busy.error().message()}});
                }
            } else {
                remove_half_made(images, paths, c.runtime_id);
            }
            seen.push_back(o);
        }
        auto engine = engine::Task::restore(task_spec((*task)->def, arn, options.config), *saved,
                                            seen, now_ms());
        if (!engine) {
            log::error(engine.error(), "cannot restore task, leaving it as it is", {{"task", arn}});
            continue;
        }
        (*task)->engine = std::move(*engine);
        (void)ledger.reserve(arn, task_demand((*task)->def));
        tasks[arn] = std::move(*task);
    }
    // The tasks whose namespaces (task_ipc.hpp, task_pid.hpp) and cgroups stay: every
    // unfinished one.
    std::set<std::string> keep_ns(live_networks.begin(), live_networks.end());
    for (const auto& record : stored->others)
        keep_ns.insert(task_id_of(record.arn));
    auto stale_ns = take_pauses(found, keep_ns);
    // Half-made or left by a task written finished: nothing will ever watch or remove it, and
    // berthd alone creates containers under its runtime root. Killed and removed, and said so.
    std::vector<Leftover> unowned;
    const auto add_unowned = [&](const std::string& id, std::shared_ptr<runtime::Container> c) {
        Leftover l;
        l.runtime_id = id;
        l.container = std::move(c);
        l.bundle_dir = cat(paths.bundles(), "/", id);
        unowned.push_back(std::move(l));
    };
    for (auto& [id, c] : found.live)
        if (owned.count(id) == 0) {
            log::warn("a container no task holds: removing it", {{"container", id}});
            add_unowned(id, std::make_shared<runtime::Container>(std::move(c)));
        }
    for (const auto& [id, record] : found.ended)
        if (owned.count(id) == 0)
            add_unowned(id, nullptr);
    {
        const std::lock_guard lock(network_mutex);
        auto report = network.recover(live_networks);
        if (!report)
            return std::move(report).error().wrap("recover task networks");
    }
    // ipcMode task's namespaces and /dev/shm mounts, and pidMode task's pauses, of tasks no
    // longer unfinished (a crash between their last container's end and Deprovision's answer,
    // or mid-Provision): nothing else removes them.
    for (auto& id : stale_task_ipc(paths.tasks(), keep_ns))
        stale_ns.insert(std::move(id));
    // Task cgroups (task_cgroup.cpp) of tasks no longer unfinished: the same crashes leave them,
    // and their pauses and containers are in them. Listed here, on the loop, before any new
    // task can make its own; removed after those containers and pauses.
    auto stale_cgroups = find_stale_task_cgroups(rt, keep_ns);
    if (!stale_cgroups)
        log::error(stale_cgroups.error(), "cannot list the cgroup root, leaving its task cgroups");
    remove_unowned(unowned, std::vector<std::string>(stale_ns.begin(), stale_ns.end()),
                   stale_cgroups ? *stale_cgroups : std::vector<std::string>());
    std::set<std::string> leases; // the image store's record of who holds a lease
    if (auto held = images.leases())
        for (const auto& l : *held)
            leases.insert(l.name);
    else
        log::warn("cannot read image leases: a lease may outlive its task",
                  {{"error", held.error().message()}});
    for (auto& [arn, task] : tasks) {
        for (std::size_t i = 0; i < task->containers.size(); ++i) {
            auto& c = task->containers[i];
            c.leased = leases.count(c.runtime_id) != 0;
            if (auto image = images.find(task->def.containers[i].image))
                c.image = *image;
            // Watched whenever the handle exists, not only if it runs now: one that exited
            // since recover() (it was adopted as running) has a readable wait_fd at once.
            if (c.container && c.container->init().valid())
                watch_exit(*task, i);
        }
        task->network = network.find_task(task_id_of(arn));
        log::info("restored task", {{"task", arn}});
    }
    std::vector<TaskEntry*> all;
    for (auto& [arn, task] : tasks)
        all.push_back(task.get());
    for (auto* task : all)
        apply(*task, task->engine->begin(now_ms()));
    return {};
}

void Daemon::Impl::remove_unowned(const std::vector<Leftover>& containers,
                                  const std::vector<std::string>& task_namespaces,
                                  const std::vector<std::string>& task_cgroups)
{
    if (containers.empty() && task_namespaces.empty() && task_cgroups.empty())
        return;
    offload(
        [this, containers, task_namespaces, task_cgroups] {
            std::vector<Result<void>> out;
            std::vector<std::string> left; // runtime ids of containers still there
            for (const auto& l : containers) {
                out.push_back(remove_leftover(images, rt, l));
                if (!out.back())
                    left.push_back(l.runtime_id);
            }
            // A pause after its task's containers, as a task's own stop does. If killed first,
            // as the pid namespace's init it would wait in its exit until the supervisor had reaped
            // every container init in the namespace (each reap writes an fsync'd exit record),
            // and the runtime waits 10 s for it; once they are removed (Container::remove waits
            // for that record) only the pause's own children are left. The pause before
            // ipcMode's files: its own are in the task's directory, which remove_task_ipc removes.
            for (const auto& id : task_namespaces) {
                const auto pause = task_pause(paths.tasks(), id);
                auto r = remove_task_pause(rt, pause);
                if (!r)
                    left.push_back(pause.runtime_id());
                else
                    r = remove_task_ipc(task_ipc(paths.tasks(), id));
                out.push_back(std::move(r));
            }
            // A task cgroup goes once none of its containers is left ("<task-id>-<name>",
            // "<task-id>.pause"): never killed under a container the runtime still holds.
            for (const auto& id : task_cgroups) {
                const bool holds = std::any_of(left.begin(), left.end(), [&id](const auto& r) {
                    return r.compare(0, id.size(), id) == 0;
                });
                out.push_back(holds ? Result<void>(Error::with_code(
                                          EBUSY, "a container of the task could not be removed"))
                                    : remove_task_cgroup(rt, id));
            }
            return out;
        },
        [containers, task_namespaces, task_cgroups](const std::vector<Result<void>>& results) {
            std::size_t next = 0; // the results come in the order the worker made them
            const auto report = [&](std::string_view done, std::string_view failed,
                                    std::string_view key, const std::string& value) {
                const auto& r = results.at(next++);
                if (!r)
                    log::error(r.error(), failed, {{key, value}});
                else
                    log::warn(done, {{key, value}});
            };
            for (const auto& l : containers)
                report("removed a container no task owns", "cannot remove a container no task owns",
                       "container", l.runtime_id);
            for (const auto& id : task_namespaces)
                report("removed a finished task's namespaces",
                       "cannot remove a finished task's namespaces", "task_id", id);
            for (const auto& id : task_cgroups)
                report("removed the cgroup of a finished task",
                       "cannot remove the cgroup of a finished task", "task_id", id);
        });
}

} // namespace berth::daemon
