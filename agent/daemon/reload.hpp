// agent/daemon/reload.hpp — what a configuration reload (SIGHUP) may change while berthd runs.
// Live keys are applied at once (the log level, image cleanup, the drain-on-stop switch) or to
// the tasks started from then on (the ECS timeouts and cleanup wait); every other key is read
// only when berthd starts (listeners, directories, the network, capacity, credentials), so a
// change to it is reported as needing a restart and not applied.
#pragma once
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
// Every key plan_reload knows how to compare (a test checks it covers config::known_keys()).
std::vector<std::string_view> reload_classified_keys();

} // namespace berth::daemon
