// agent/daemon/state_json.cpp — engine::TaskState as JSON in the store's tasks.engine_state
// column: what Task::restore() needs after a crash. Strict on the way back: a record that does
// not read whole is an error naming the field, never a half-guessed state.
#include <nlohmann/json.hpp>
#include "agent/daemon/pure.hpp"
#include "base/strings.hpp"

namespace berth::daemon {
namespace {

using nlohmann::json;

json optional_ms(const std::optional<engine::Time>& t)
{
    return t ? json(t->count()) : json(nullptr);
}

template <class Enum>
Result<Enum> enum_of(const json& j, const char* key, int last)
{
    if (!j.contains(key) || !j[key].is_number_integer() || j[key].get<int>() < 0 ||
        j[key].get<int>() > last)
        return Error::invalid("engine state: ", key, ": out of range");
    return static_cast<Enum>(j[key].get<int>());
}

Result<std::optional<engine::Time>> time_of(const json& j, const char* key)
{
    if (!j.contains(key) || j[key].is_null())
        return std::optional<engine::Time>{};
    if (!j[key].is_number_integer())
        return Error::invalid("engine state: ", key, ": an integer expected");
    return std::optional<engine::Time>(engine::Time(j[key].get<std::int64_t>()));
}

Result<engine::ContainerState> container_from(const json& j)
{
    engine::ContainerState c;
    if (!j.is_object())
        return Error::invalid("engine state: containers: objects expected");
    auto known = enum_of<engine::ContainerStatus>(j, "known", 6);
    auto desired = enum_of<engine::ContainerStatus>(j, "desired", 6);
    auto health = enum_of<engine::HealthStatus>(j, "health", 2);
    auto started = time_of(j, "started_at");
    // created_at and finished_at came later: a record without them reads as "not known".
    auto created = time_of(j, "created_at");
    auto finished = time_of(j, "finished_at");
    if (!known || !desired || !health || !started || !created || !finished)
        return !known     ? known.error()
               : !desired ? desired.error()
               : !health  ? health.error()
               : !started ? started.error()
               : !created ? created.error()
                          : finished.error();
    c.known = *known;
    c.desired = *desired;
    c.health = *health;
    c.started_at = *started;
    c.created_at = *created;
    c.finished_at = *finished;
    if (j.contains("exit_code") && j["exit_code"].is_number_integer())
        c.exit_code = j["exit_code"].get<int>();
    c.reason = j.value("reason", std::string());
    c.failed_probes = j.value("failed_probes", 0);
    c.exists = j.value("exists", false);
    return c;
}

} // namespace

std::string state_to_json(const engine::TaskState& s)
{
    json out = {{"known", static_cast<int>(s.known)},
                {"desired", static_cast<int>(s.desired)},
                {"stop_code", static_cast<int>(s.stop_code)},
                {"stopped_reason", s.stopped_reason},
                {"provisioned", s.provisioned},
                {"stopped_at", optional_ms(s.stopped_at)},
                {"containers", json::array()}};
    for (const auto& c : s.containers)
        out["containers"].push_back({{"known", static_cast<int>(c.known)},
                                     {"desired", static_cast<int>(c.desired)},
                                     {"exit_code", c.exit_code ? json(*c.exit_code) : json()},
                                     {"reason", c.reason},
                                     {"health", static_cast<int>(c.health)},
                                     {"created_at", optional_ms(c.created_at)},
                                     {"started_at", optional_ms(c.started_at)},
                                     {"finished_at", optional_ms(c.finished_at)},
                                     {"failed_probes", c.failed_probes},
                                     {"exists", c.exists}});
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<engine::TaskState> state_from_json(std::string_view text)
{
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return Error::invalid("engine state: not a JSON object");
    try {
        engine::TaskState s;
        auto known = enum_of<engine::TaskStatus>(j, "known", 7);
        auto desired = enum_of<engine::TaskStatus>(j, "desired", 7);
        auto code = enum_of<engine::StopCode>(j, "stop_code", 3);
        auto stopped = time_of(j, "stopped_at");
        if (!known || !desired || !code || !stopped)
            return !known     ? known.error()
                   : !desired ? desired.error()
                   : !code    ? code.error()
                              : stopped.error();
        s.known = *known;
        s.desired = *desired;
        s.stop_code = *code;
        s.stopped_at = *stopped;
        s.stopped_reason = j.value("stopped_reason", std::string());
        s.provisioned = j.value("provisioned", false);
        if (!j.contains("containers") || !j["containers"].is_array())
            return Error::invalid("engine state: containers: an array expected");
        for (const auto& c : j["containers"]) {
            auto container = container_from(c);
            if (!container)
                return std::move(container).error();
            s.containers.push_back(std::move(*container));
        }
        return s;
    } catch (const json::exception& e) { // value() on a field of the wrong type
        return Error::invalid("engine state: ", e.what());
    }
}

} // namespace berth::daemon
