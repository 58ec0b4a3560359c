// agent/daemon/watchdog.cpp — the heartbeat behind systemd's watchdog. A timer on the loop sends
// a no-op through the container worker pool; only when it comes back to the loop is alive()
// called (berthd then sends WATCHDOG=1 and STATUS=). So a loop that is stuck, or a pool whose
// threads are all stuck (a hung mount, a wedged supervisor call), stops the calls and systemd
// restarts berthd; the containers live under berth-supervisor.service and are re-adopted. The
// pull pool and the probe pool are left out on purpose: two slow pulls or hanging health probes
// (each bounded by its timeout) are a container's trouble, not berthd's.
#include "agent/daemon/internal.hpp"

namespace berth::daemon {

void Daemon::start_heartbeat(std::chrono::milliseconds interval,
                             std::function<void(std::size_t, std::size_t)> alive)
{
    asio::post(impl_->io, [impl = impl_.get(), interval, alive = std::move(alive)]() mutable {
        auto& l = impl->lifecycle;
        l.heartbeat_interval = interval;
        l.alive = std::move(alive);
        l.heartbeat_timer = std::make_unique<asio::steady_timer>(impl->io);
        impl->beat();
    });
}

void Daemon::Impl::beat()
{
    auto& l = lifecycle;
    // One round trip at a time: a pool busy for a while answers late, not many times over.
    if (!l.beat_outstanding) {
        l.beat_outstanding = true;
        offload([] { return true; },
                [this](bool) {
                    lifecycle.beat_outstanding = false;
                    std::size_t running = 0;
                    for (const auto& [arn, task] : tasks)
                        if (task->engine &&
                            task->engine->state().known == engine::TaskStatus::Running)
                            ++running;
                    lifecycle.alive(running, tasks.size() + stopped_tasks.size());
                });
    }
    l.heartbeat_timer->expires_after(l.heartbeat_interval);
    l.heartbeat_timer->async_wait([this](const boost::system::error_code& ec) {
        if (!ec)
            beat();
    });
}

} // namespace berth::daemon
