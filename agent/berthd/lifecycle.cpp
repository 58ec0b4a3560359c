// agent/berthd/lifecycle.cpp — berthd under systemd, after READY=1: the signal thread and the
// watchdog. SIGHUP: RELOADING=1, the configuration file read again (with the environment berthd
// started with), its live keys applied (agent/daemon/reload.hpp), the others logged as needing a
// restart, READY=1; a malformed file changes nothing. SIGTERM/SIGINT: STOPPING=1, then either
// the loop stops at once (tasks keep running: upgrades) or, with BERTH_STOP_TASKS_ON_SHUTDOWN,
// the API servers close and every task is stopped and cleaned up first. The watchdog: WATCHDOG=1
// at half of WatchdogSec, sent only when the daemon's heartbeat came through its loop and worker
// pool (agent/daemon/watchdog.cpp), with STATUS= saying how many tasks run.
#include <pthread.h>
#include <time.h>
#include <csignal>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include "agent/berthd/berthd.hpp"
#include "base/log.hpp"
#include "base/sd_notify.hpp"
#include "base/strings.hpp"

namespace berth::berthd {
namespace {

std::uint64_t monotonic_usec()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000U +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000U;
}

std::string joined(const std::vector<std::string>& keys)
{
    std::string out;
    for (const auto& k : keys)
        out += out.empty() ? k : "," + k;
    return out;
}

// Returns the drain-on-stop switch now in force.
bool reload(const ReloadSource& source, daemon::Daemon& node, bool drain_on_stop)
{
    notify_manager(cat("RELOADING=1\nMONOTONIC_USEC=", std::to_string(monotonic_usec())));
    auto fresh = config::load(source.path, source.env, source.must_exist);
    if (!fresh) {
        log::error(fresh.error(), "reload refused, the configuration is unchanged");
    } else if (auto plan = node.reconfigure(*fresh); !plan) {
        log::error(plan.error(), "reload failed, the configuration is unchanged");
    } else {
        drain_on_stop = fresh->stop_tasks_on_shutdown;
        log::info("configuration reloaded",
                  {{"applied", joined(plan->live)}, {"needs_restart", joined(plan->restart)}});
        for (const auto& key : plan->restart)
            log::warn("changed key takes effect at the next restart (systemctl restart berthd)",
                      {{"key", key}});
    }
    notify_manager("READY=1");
    return drain_on_stop;
}

} // namespace

void notify_manager(std::string_view state)
{
    // Not under a service manager: nothing to tell. A failure is logged, never fatal (as
    // libsystemd's sd_notify, whose result berthd ignored).
    if (auto sent = notify::send(state); !sent)
        log::warn("cannot notify the service manager, continuing",
                  {{"error", sent.error().message()}});
}

sigset_t block_signals()
{
    // Every thread berthd starts inherits this mask: these signals are taken by sigwait in
    // serve_signals only.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    // An ignored signal is discarded even while blocked: a parent that ignored SIGHUP (nohup, a
    // shell's job control) would otherwise make reload silently impossible.
    for (const int s : {SIGTERM, SIGINT, SIGHUP})
        std::signal(s, SIG_DFL);
    return signals;
}

void serve_signals(const sigset_t& signals, const ReloadSource& source, bool drain_on_stop,
                   daemon::Daemon& node, const std::function<void()>& close_servers)
{
    int signal = 0;
    for (;;) {
        if (sigwait(&signals, &signal) != 0)
            continue;
        if (signal != SIGHUP)
            break;
        drain_on_stop = reload(source, node, drain_on_stop);
    }
    notify_manager("STOPPING=1");
    if (!drain_on_stop) {
        log::info("stopping; tasks keep running", {{"signal", std::to_string(signal)}});
        node.stop();
        return;
    }
    notify_manager("STATUS=stopping every task (BERTH_STOP_TASKS_ON_SHUTDOWN)");
    log::info("stopping; every task is stopped first (BERTH_STOP_TASKS_ON_SHUTDOWN)",
              {{"signal", std::to_string(signal)}});
    close_servers(); // no new task while draining
    node.drain();    // run() returns once no task is left
}

void start_watchdog(daemon::Daemon& node)
{
    const auto watchdog_usec = notify::watchdog_interval();
    const bool watchdog = watchdog_usec.has_value();
    const auto usec = watchdog ? static_cast<std::uint64_t>(watchdog_usec->count()) : 0U;
    // Without a watchdog the heartbeat still keeps STATUS= current.
    // Half the watchdog's period, and never under 1 ms (a tiny WatchdogSec= must not spin).
    const auto interval = watchdog
                              ? std::chrono::milliseconds(std::max<std::uint64_t>(usec / 2000, 1))
                              : std::chrono::milliseconds(std::chrono::seconds(10));
    if (watchdog)
        log::info("watchdog enabled", {{"interval_ms", std::to_string(usec / 1000)}});
    node.start_heartbeat(interval, [watchdog](std::size_t running, std::size_t unfinished) {
        notify_manager(cat(watchdog ? "WATCHDOG=1\n" : "", "STATUS=", std::to_string(running),
                           " tasks running, ", std::to_string(unfinished), " unfinished"));
    });
}

} // namespace berth::berthd
