// agent/daemon/cleanup.cpp — a finished task (STOPPED, its cleanup wait over) made to leave
// nothing: every container of the task is removed (not only those the engine knows it created:
// a create cut short by a crash may have left a rootfs), then the task's own cgroup (once no
// container's cgroup is below it: task_cgroup.cpp), then its image leases released, and
// only once the releases ran is the task written finished (engine_state ""). Until that write its
// last engine snapshot stays in the store, so a crash at any point in between resumes the cleanup
// at restore. A removal that fails (a cgroup still busy, say) keeps the rootfs and is retried with
// a growing delay; the task stays "cleanup pending" meanwhile, never silently forgotten. A task
// that waited as a compact record (stopped.cpp) comes here from its stored record, its containers
// removed by id.
#include <algorithm>
#include <filesystem>
#include "agent/daemon/containers.hpp"
#include "base/log.hpp"

namespace berth::daemon {
namespace {

std::chrono::seconds retry_delay(int attempts)
{
    return std::chrono::seconds(std::min(60, 5 << std::min(attempts, 4)));
}

} // namespace

Leftover Daemon::Impl::leftover_of(const TaskEntry& task, std::size_t index) const
{
    const auto& c = task.containers[index];
    Leftover l;
    l.runtime_id = c.runtime_id;
    l.container = c.container;
    l.leased = c.leased;
    l.log_path = cat(paths.logs(), "/", task_id_of(task.record.arn), "/",
                     task.def.containers[index].name, ".log");
    l.bundle_dir = cat(paths.bundles(), "/", c.runtime_id);
    return l;
}

void Daemon::Impl::begin_cleanup(TaskEntry& task)
{
    // Once only: the finished task stays findable until the erase drive.cpp posts, and an
    // apply() queued before it (a fired timer, StopTask) would start a second removal of the
    // same containers on another worker.
    if (cleanups.count(task.record.arn) != 0)
        return;
    auto job = std::make_unique<Cleanup>();
    job->record = task.record;
    for (std::size_t i = 0; i < task.containers.size(); ++i) {
        job->containers.push_back(leftover_of(task, i));
        task.containers[i].watch.reset();
    }
    const auto arn = task.record.arn;
    cleanups[arn] = std::move(job);
    run_cleanup(arn);
}

void Daemon::Impl::run_cleanup(const std::string& arn)
{
    const auto it = cleanups.find(arn);
    if (it == cleanups.end())
        return;
    std::vector<Leftover> todo;
    for (const auto& l : it->second->containers)
        if (!l.done)
            todo.push_back(l);
    const auto log_dir = cat(paths.logs(), "/", task_id_of(arn));
    offload(
        [this, todo, log_dir, task_id = task_id_of(arn)] {
            std::vector<Result<void>> out;
            out.reserve(todo.size() + 1);
            bool all = true;
            for (const auto& l : todo) {
                out.push_back(remove_leftover(images, rt, l));
                all = all && out.back();
            }
            // The task's log directory goes with its last container's logs (the task is
            // finished: nothing creates in it any more). Removed only if empty.
            std::error_code ec;
            if (all)
                std::filesystem::remove(log_dir, ec);
            // The task's cgroup last, once no container's cgroup is below it: its result
            // follows the containers' (none while one of them is left).
            if (all)
                out.push_back(remove_task_cgroup(rt, task_id));
            return out;
        },
        [this, arn](std::vector<Result<void>> results) {
            const auto it = cleanups.find(arn);
            if (it == cleanups.end())
                return;
            auto& job = *it->second;
            bool all = true;
            std::size_t next = 0;
            for (auto& l : job.containers) {
                if (l.done)
                    continue;
                const auto& r = results.at(next++);
                if (!r) {
                    all = false;
                    log::error(r.error(), "cannot remove a finished task's container, retrying",
                               {{"task", arn}, {"container", l.runtime_id}});
                    continue;
                }
                if (l.leased)
                    release_lease(l.runtime_id); // after its take, on the lease strand
                l.done = true;
            }
            if (all && next < results.size() && !results[next]) {
                all = false; // every container is done: the retry removes only the cgroup
                log::error(results[next].error(),
                           "cannot remove a finished task's cgroup, retrying", {{"task", arn}});
            }
            if (all) {
                // Written finished only after the lease releases queued above have run (the
                // lease strand keeps order): a crash in between resumes the cleanup at restore
                // instead of leaving a lease no unfinished task owns, held forever.
                asio::post(lease_strand,
                           [this, arn] { asio::post(io, [this, arn] { finish_cleanup(arn); }); });
                return;
            }
            retry_cleanup(job);
        });
}

void Daemon::Impl::finish_cleanup(const std::string& arn)
{
    const auto it = cleanups.find(arn);
    if (it == cleanups.end())
        return;
    auto& job = *it->second;
    job.record.engine_state = ""; // finished: nothing of it is left on the host
    auto written = store.put_task(job.record);
    if (written) {
        log::info("task removed", {{"task", arn}});
        cleanups.erase(it);
        note_if_idle(); // its containers' handles and records are freed now
        return;
    }
    log::error(written.error(), "cannot record a task's cleanup as done, retrying",
               {{"task", arn}});
    retry_cleanup(job); // every container is done: the retry only writes again
}

void Daemon::Impl::retry_cleanup(Cleanup& job)
{
    const auto delay = retry_delay(job.attempts++);
    job.retry = std::make_unique<asio::system_timer>(io, delay);
    job.retry->async_wait([this, arn = job.record.arn](const boost::system::error_code& ec) {
        if (!ec)
            run_cleanup(arn);
    });
}

} // namespace berth::daemon
