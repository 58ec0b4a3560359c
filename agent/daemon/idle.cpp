// agent/daemon/idle.cpp — the node becoming idle again: no task left that is not STOPPED and no
// finished task's removal under way. Options::on_idle then runs once on the loop, a short
// settle after the last task stopped (or its cleanup finished), so that berthd can hand back
// what the tasks' work left in its heap (agent/berthd/memory.cpp; docs/BENCHMARKS.md, "Memory,
// fourth round"). Not a periodic timer: an idle node is not woken; a node that starts another
// task within the settle time is not idle when the timer fires, and nothing runs.
#include "agent/daemon/internal.hpp"

namespace berth::daemon {
namespace {

// Long enough that a task started right after another stopped (a script's run, stop, run) does
// not pay for a trimmed heap on its start path; short enough that an idle node gets its memory
// back before anyone looks.
constexpr auto idle_settle = std::chrono::seconds(1);

} // namespace

bool Daemon::Impl::idle() const
{
    if (!cleanups.empty())
        return false;
    for (const auto& [arn, task] : tasks)
        if (!task->engine || task->engine->state().known != engine::TaskStatus::Stopped)
            return false;
    return true;
}

void Daemon::Impl::note_if_idle()
{
    if (!options.on_idle || !idle())
        return;
    if (!idle_timer)
        idle_timer = std::make_unique<asio::steady_timer>(io);
    idle_timer->expires_after(idle_settle); // a pending wait is cancelled: one call per settle
    idle_timer->async_wait([this](const boost::system::error_code& ec) {
        if (!ec && idle())
            options.on_idle();
    });
}

} // namespace berth::daemon
