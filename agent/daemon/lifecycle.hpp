// agent/daemon/lifecycle.hpp — internal: the loop's state for berthd's systemd side: the
// heartbeat behind the watchdog (watchdog.cpp), the drain before exit (drain.cpp). Owned by the
// loop thread.
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <boost/asio/steady_timer.hpp>

namespace berth::daemon {

struct Lifecycle {
    // watchdog.cpp: a round trip through the worker pool every interval; alive() after each.
    std::unique_ptr<boost::asio::steady_timer> heartbeat_timer;
    std::chrono::milliseconds heartbeat_interval{0};
    std::function<void(std::size_t running, std::size_t unfinished)> alive;
    bool beat_outstanding = false;
    // drain.cpp: every task stopped, then cleaned up at once; run() returns when none is left.
    bool draining = false;
    std::unique_ptr<boost::asio::steady_timer> drain_timer;
    std::set<std::string> cleaned; // tasks whose cleanup was brought forward
};

} // namespace berth::daemon
