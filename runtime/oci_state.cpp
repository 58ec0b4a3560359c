// runtime/oci_state.cpp — the OCI state JSON (what `state` prints and hooks read on stdin).
#include <ctime>
#include <nlohmann/json.hpp>
#include "runtime/runtime.hpp"

namespace berth::runtime {

std::string_view status_name(Status status)
{
    switch (status) {
    case Status::Creating: return "creating";
    case Status::Created: return "created";
    case Status::Running: return "running";
    case Status::Paused: return "paused";
    case Status::Stopped: return "stopped";
    }
    return "unknown";
}

namespace {

// RFC 3339 with nanoseconds in UTC, as runc prints "created".
std::string rfc3339(std::chrono::system_clock::time_point when)
{
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ns / 1000000000);
    const long fraction = static_cast<long>(ns % 1000000000);
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    char text[64];
    const auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[96];
    std::snprintf(out, sizeof out, "%.*s.%09ldZ", static_cast<int>(n), text, fraction);
    return out;
}

} // namespace

std::string state_to_json(const State& state)
{
    nlohmann::json j = {
        {"ociVersion", state.oci_version},
        {"id", state.id},
        {"status", std::string(status_name(state.status))},
        {"pid", state.pid},
        {"bundle", state.bundle},
        {"rootfs", state.rootfs},
        {"created", rfc3339(state.created)},
        {"owner", state.owner},
    };
    if (!state.annotations.empty())
        j["annotations"] = state.annotations;
    return j.dump();
}

} // namespace berth::runtime
