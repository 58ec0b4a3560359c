// agent/daemon/drain.cpp — decommissioning on stop (BERTH_STOP_TASKS_ON_SHUTDOWN): every
// unfinished task is stopped as StopTask would (SIGTERM, its stopTimeout, SIGKILL; networks and
// mounts released), and once STOPPED its cleanup is brought forward (the engine's cleanup
// deadline is handed to it now instead of after ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION), so the
// containers, their logs and rootfs go too. The loop stops when no task and no cleanup is left;
// berthd then exits. systemd's TimeoutStopSec bounds the whole (a SIGKILL ends berthd, the tasks
// stay as they were and the next berthd carries on with them).
#include <chrono>
#include <condition_variable>
#include <mutex>
#include "agent/daemon/internal.hpp"
#include "base/log.hpp"

namespace berth::daemon {
namespace {

constexpr std::chrono::milliseconds drain_poll{200};
// The container worker pool's size (internal.hpp): a barrier holds that many threads at once.
constexpr int pool_threads = 2;

// pool_threads jobs that wait for one another: once all of them run, every job queued before
// them (the removals) has finished. Bounded, so a smaller pool costs a delay, never a hang.
struct Barrier {
    std::mutex mutex;
    std::condition_variable arrived;
    int count = 0;
    void arrive_and_wait()
    {
        std::unique_lock lock(mutex);
        ++count;
        arrived.notify_all();
        arrived.wait_for(lock, std::chrono::seconds(5), [this] { return count >= pool_threads; });
    }
};

} // namespace

void Daemon::drain()
{
    asio::post(impl_->io, [impl = impl_.get()] { impl->begin_drain(); });
}

void Daemon::Impl::begin_drain()
{
    if (lifecycle.draining)
        return;
    lifecycle.draining = true;
    lifecycle.drain_timer = std::make_unique<asio::steady_timer>(io);
    log::info("stopping every task before exiting (BERTH_STOP_TASKS_ON_SHUTDOWN)",
              {{"tasks", std::to_string(tasks.size() + stopped_tasks.size())}});
    std::vector<std::string> arns; // apply() may drop entries: never iterate the map itself
    for (const auto& [arn, task] : tasks)
        arns.push_back(arn);
    for (const auto& arn : arns)
        if (auto* task = find(arn); task != nullptr && task->engine &&
                                    task->engine->state().desired != engine::TaskStatus::Stopped)
            apply(*task, task->engine->stop("Node is shutting down (BERTH_STOP_TASKS_ON_SHUTDOWN)",
                                            now_ms()));
    drain_step();
}

void Daemon::Impl::drain_step()
{
    std::vector<std::string> arns;
    for (const auto& [arn, task] : tasks)
        arns.push_back(arn);
    for (const auto& arn : arns) {
        auto* task = find(arn);
        if (task == nullptr || !task->engine || lifecycle.cleaned.count(arn) != 0 ||
            task->engine->state().known != engine::TaskStatus::Stopped)
            continue;
        // STOPPED: every container exited and the network is gone; what is left is the
        // cleanup timer, fired now.
        const auto deadline = task->engine->next_deadline();
        if (!deadline)
            continue;
        lifecycle.cleaned.insert(arn);
        log::info("task stopped, cleaning up", {{"task", arn}});
        apply(*task, task->engine->on_timer(std::max(*deadline, now_ms())));
    }
    // Those already kept compact (stopped.cpp) are cleaned up now, too; none is compacted while
    // draining.
    if (!stopped_tasks.empty())
        clean_up_stopped(now_ms(), true);
    // A task leaves `tasks` when its cleanup starts (drive.cpp), not when it ends: stopped
    // only once every cleanup wrote its task finished, failed removals retried included.
    if (tasks.empty() && stopped_tasks.empty() && cleanups.empty()) {
        settle_then_stop();
        return;
    }
    lifecycle.drain_timer->expires_after(drain_poll);
    lifecycle.drain_timer->async_wait([this](const boost::system::error_code& ec) {
        if (!ec)
            drain_step();
    });
}

void Daemon::Impl::settle_then_stop()
{
    // The removals run on the workers (and release image leases on the lease strand): the loop
    // stops only after them, or ~Daemon would drop those still queued.
    auto barrier = std::make_shared<Barrier>();
    auto passed = std::make_shared<int>(0); // guarded by barrier->mutex
    for (int i = 0; i < pool_threads; ++i)
        asio::post(workers, [this, barrier, passed] {
            barrier->arrive_and_wait();
            const std::lock_guard lock(barrier->mutex);
            if ((*passed)++ == 0)
                asio::post(lease_strand, [this] {
                    asio::post(io, [this] {
                        log::info("every task stopped and cleaned up");
                        io.stop();
                    });
                });
        });
}

} // namespace berth::daemon
