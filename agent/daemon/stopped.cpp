// agent/daemon/stopped.cpp — a STOPPED task waiting out its cleanup wait, kept compact. Once a
// task is STOPPED and nothing of it is in flight any more (the engine's only deadline left is
// its cleanup), its TaskEntry (store record with its engine snapshot text, task definition,
// engine, network info, container handles, timer: about 8 kB of heap) is replaced by a
// StoppedTask of a few hundred bytes: when its cleanup is due and the little the store does not
// hold (ImageIDs, which containers the runtime had, which image leases it holds). Whatever else
// a stopped task is asked for comes from the store: DescribeTasks and ListTasks read it anyway,
// the metadata endpoint's times come from the engine snapshot the store keeps until the cleanup
// is done, and the cleanup itself starts from the stored record (cleanup.cpp). After a restart,
// restore.cpp rebuilds a TaskEntry for each STOPPED task as for any other; it is compacted again
// here. The compact records are allocated from pages of their own, so that the freed entries
// leave whole pages free for the idle trim (docs/BENCHMARKS.md, "Memory, sixth round").
#include <algorithm>
#include "agent/daemon/internal.hpp"
#include "base/log.hpp"

namespace berth::daemon {
namespace {

// A cleanup whose stored record could not be read is tried again this much later.
constexpr engine::Duration reread_delay = std::chrono::seconds(5);

} // namespace

std::string image_id(const std::string& config_digest)
{
    return config_digest.find(':') == std::string::npos ? "sha256:" + config_digest : config_digest;
}

void Daemon::Impl::compact(const std::string& arn)
{
    const auto it = tasks.find(arn);
    if (it == tasks.end() || !it->second->engine || !it->second->stored || lifecycle.draining ||
        cleanups.count(arn) != 0)
        return;
    auto& task = *it->second;
    const auto& engine = *task.engine;
    const auto& state = engine.state();
    if (state.known != engine::TaskStatus::Stopped || engine.finished() || !state.stopped_at)
        return;
    // Nothing due before its cleanup: no answer, timeout or kill retry it still awaits can
    // change what it reports (one due later would find it removed anyway, as without this).
    // Otherwise the engine call that settles it (apply()) compacts the task.
    const auto due = *state.stopped_at + engine.spec().cleanup_wait;
    if (engine.next_deadline() != due)
        return;
    StoppedTask s{due, false, std::pmr::vector<StoppedContainer>(&stopped_pool)};
    const auto mode = task.def.network();
    s.own_netns = mode == taskdef::NetworkMode::Bridge || mode == taskdef::NetworkMode::Awsvpc;
    s.containers.reserve(task.containers.size());
    for (const auto& c : task.containers)
        s.containers.push_back(
            {std::pmr::string(c.image ? image_id(c.image->config_digest) : "", &stopped_pool),
             c.container != nullptr, c.leased});
    stopped_tasks.try_emplace(std::pmr::string(arn, &stopped_pool), std::move(s));
    tasks.erase(it); // its timer and exit watches are cancelled; their handlers find nothing
    log::debug("stopped task kept compact until its cleanup", {{"task", arn}});
    arm_stopped_timer();
    note_if_idle(); // the entry's heap is free now: the idle trim can give its pages back
}

void Daemon::Impl::arm_stopped_timer()
{
    if (stopped_tasks.empty()) {
        if (stopped_timer)
            stopped_timer->cancel();
        return;
    }
    auto next = stopped_tasks.begin()->second.cleanup_at;
    for (const auto& [arn, s] : stopped_tasks)
        next = std::min(next, s.cleanup_at);
    if (!stopped_timer)
        stopped_timer = std::make_unique<asio::system_timer>(io);
    stopped_timer->expires_at(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(next)));
    stopped_timer->async_wait([this](const boost::system::error_code& ec) {
        if (!ec)
            clean_up_stopped(now_ms(), false);
    });
}

void Daemon::Impl::clean_up_stopped(engine::Time now, bool all)
{
    std::vector<std::string> due;
    for (const auto& [arn, s] : stopped_tasks)
        if (all || s.cleanup_at <= now)
            due.emplace_back(arn);
    for (const auto& arn : due)
        begin_stopped_cleanup(arn);
    if (stopped_tasks.empty())
        stopped_pool.release(); // every page of the records back to the system
    arm_stopped_timer();
}

void Daemon::Impl::begin_stopped_cleanup(const std::string& arn)
{
    const auto it = stopped_tasks.find(std::string_view(arn));
    if (it == stopped_tasks.end())
        return;
    auto record = store.task(arn);
    if (!record || !*record) {
        if (!record) { // the record is needed to write the task finished: tried again
            log::error(record.error(), "cannot read a stopped task for its cleanup, retrying",
                       {{"task", arn}});
            it->second.cleanup_at = now_ms() + reread_delay;
            return;
        }
        log::error(Error::with_code(ENOENT, "no such task in the store"),
                   "a stopped task is gone from the store, forgetting it", {{"task", arn}});
        stopped_tasks.erase(it);
        return;
    }
    auto job = std::make_unique<Cleanup>();
    const auto task_id = task_id_of(arn);
    for (std::size_t i = 0; i < (*record)->containers.size(); ++i) {
        const auto& c = (*record)->containers[i];
        Leftover l;
        l.runtime_id = c.runtime_id; // no handle: removed by id (its init was reaped)
        l.leased = i < it->second.containers.size() && it->second.containers[i].leased;
        l.log_path = cat(paths.logs(), "/", task_id, "/", c.name, ".log");
        l.bundle_dir = cat(paths.bundles(), "/", c.runtime_id);
        job->containers.push_back(std::move(l));
    }
    job->record = std::move(**record);
    // The engine's cleanup call persisted the whole entry's record once more (a version), which
    // finish_cleanup writes: so does this one, and the finished record reads as it would have.
    ++job->record.version;
    stopped_tasks.erase(it);
    log::info("task finished, removing its containers", {{"task", arn}});
    cleanups[arn] = std::move(job);
    run_cleanup(arn);
}

} // namespace berth::daemon
