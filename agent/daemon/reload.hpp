// agent/daemon/reload.hpp — what a configuration reload (SIGHUP) may change while berthd runs.
// Live keys are applied at once (the log level, image cleanup, the drain-on-stop switch) or to
// the tasks started from then on (the ECS timeouts and cleanup wait); every other key is read
// only when berthd starts (listeners, directories, the network, capacity, credentials), so a
// change to it is reported as needing a restart and not applied.
#pragma once
#include <atomic>
#include <string>
#include <string_view>
#include <vector>
#include "agent/config/config.hpp"

namespace berth::daemon {

struct ReloadPlan {
    std::vector<std::string> live;    // changed keys applied by reload
    std::vector<std::string> restart; // changed keys that need `systemctl restart berthd`
};

// The keys whose values differ between `current` and `fresh`, classified.
ReloadPlan plan_reload(const config::Config& current, const config::Config& fresh);
// `current` with the live keys of `fresh`: what the daemon runs with after the reload.
config::Config apply_live(const config::Config& current, const config::Config& fresh);
// One reload handed to the loop, which may get to it only after the caller stopped waiting:
// exactly one of take() (the loop, about to apply it) and abandon() (the caller, timed out)
// wins. So a reload reported as failed is never applied later behind the operator's back, and
// one the loop has taken is waited for and reported as applied.
class ReloadHandoff {
public:
    bool take() { return settle(taken); }
    bool abandon() { return settle(abandoned); }

private:
    static constexpr int pending = 0, taken = 1, abandoned = 2;
    bool settle(int to)
    {
        int expected = pending;
        return state_.compare_exchange_strong(expected, to);
    }
    std::atomic<int> state_{pending};
};

// Every key plan_reload knows how to compare (a test checks it covers config::known_keys()).
std::vector<std::string_view> reload_classified_keys();

} // namespace berth::daemon
