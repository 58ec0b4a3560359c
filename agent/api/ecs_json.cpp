// agent/api/ecs_json.cpp — the shape pieces shared by introspection_shapes.cpp and
// metadata_shapes.cpp (ecs_json.hpp).
#include <ctime>
#include "agent/api/ecs_json.hpp"

namespace berth::api {

using nlohmann::json;

std::string dump(const json& value)
{
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::pair<std::string, std::string> family_revision(const std::string& arn)
{
    const auto name = last_component(arn);
    const auto colon = name.rfind(':');
    if (colon == std::string::npos)
        return {name, ""};
    return {name.substr(0, colon), name.substr(colon + 1)};
}

std::string last_component(const std::string& arn)
{
    const auto slash = arn.rfind('/');
    return slash == std::string::npos ? arn : arn.substr(slash + 1);
}

json ports_json(const std::string& bindings_text)
{
    json out = json::array();
    const auto bindings = json::parse(bindings_text, nullptr, false);
    if (!bindings.is_array())
        return out;
    for (const auto& b : bindings) {
        if (!b.is_object())
            continue;
        json port = json::object();
        if (auto v = b.find("containerPort"); v != b.end() && v->is_number_integer())
            port["ContainerPort"] = *v;
        if (auto v = b.find("protocol"); v != b.end() && v->is_string())
            port["Protocol"] = *v;
        if (auto v = b.find("hostPort"); v != b.end() && v->is_number_integer())
            port["HostPort"] = *v;
        if (auto v = b.find("bindIP"); v != b.end() && v->is_string())
            port["HostIp"] = *v;
        out.push_back(std::move(port));
    }
    return out;
}

std::string rfc3339(std::int64_t epoch_seconds)
{
    const std::time_t t = epoch_seconds;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char text[32];
    const auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return {text, n};
}

} // namespace berth::api
