// tests/fuzz/config_fuzz.cpp — berth.conf (written by an operator, possibly by a tool from
// untrusted parts) -> config::parse, and each line's value -> parse_duration. Properties: every
// refusal is explained; an accepted configuration keeps its invariants (non-negative durations,
// an ordered port range, credentials in pairs, absolute directories).
#include <cstddef>
#include <cstdint>
#include "agent/config/config.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    const auto text = fuzz::as_text(data, size);

    if (size <= 64) {
        auto d = config::parse_duration(text);
        if (!d)
            fuzz::require_explained(d.error());
    }
    auto c = config::parse(text, "fuzz.conf", {});
    if (!c) {
        fuzz::require_explained(c.error());
        return 0;
    }
    fuzz::require(c->task_cleanup_wait.count() >= 0 && c->container_stop_timeout.count() >= 0,
                  "durations are not negative");
    fuzz::require(c->image_pull_timeout.count() > 0, "the pull timeout is positive");
    if (c->dynamic_host_port_range)
        fuzz::require(c->dynamic_host_port_range->first <= c->dynamic_host_port_range->last,
                      "the port range is ordered");
    fuzz::require(c->api_access_key_id.empty() == c->api_secret_access_key.empty(),
                  "credentials come in pairs");
    fuzz::require(!c->state_dir.empty() && c->state_dir.front() == '/', "state dir is absolute");
    fuzz::require(c->reserved_ports.count(22) == 1, "the ECS default reserved ports stay");
    return 0;
}
