// agent/daemon/overrides.cpp — RunTask overrides applied to the task definition. ECS's
// TaskOverride shape; what berth cannot honour (roles, ephemeral storage, accelerators,
// environmentFiles, resourceRequirements) is refused by name rather than silently dropped.
#include <algorithm>
#include <nlohmann/json.hpp>
#include "agent/daemon/pure.hpp"
#include "base/strings.hpp"

namespace berth::daemon {
namespace {

using nlohmann::json;

Result<std::vector<std::string>> strings_of(const json& value, const std::string& path)
{
    if (!value.is_array())
        return Error::invalid(path, ": an array of strings expected");
    std::vector<std::string> out;
    for (const auto& item : value) {
        if (!item.is_string())
            return Error::invalid(path, ": an array of strings expected");
        out.push_back(item.get<std::string>());
    }
    return out;
}

Result<int> units_of(const json& value, const std::string& path)
{
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
        value.get<std::int64_t>() > 1'000'000)
        return Error::invalid(path, ": a non-negative integer expected");
    return value.get<int>();
}

Result<void> merge_environment(taskdef::ContainerDefinition& c, const json& value,
                               const std::string& path)
{
    if (!value.is_array())
        return Error::invalid(path, ": an array of {name, value} expected");
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto& kv = value[i];
        const auto at = cat(path, "[", i, "]");
        if (!kv.is_object() || !kv.contains("name") || !kv["name"].is_string() ||
            (kv.contains("value") && !kv["value"].is_string()))
            return Error::invalid(at, ": {\"name\": string, \"value\": string} expected");
        const auto name = kv["name"].get<std::string>();
        const auto text = kv.value("value", std::string());
        auto it = std::find_if(c.environment.begin(), c.environment.end(),
                               [&](const taskdef::KeyValue& e) { return e.name == name; });
        if (it != c.environment.end())
            it->value = text;
        else
            c.environment.push_back({name, text});
    }
    return {};
}

Result<void> apply_container(taskdef::TaskDefinition& def, const json& o, const std::string& path)
{
    if (!o.is_object() || !o.contains("name") || !o["name"].is_string())
        return Error::invalid(path, ".name: required");
    const auto name = o["name"].get<std::string>();
    auto it = std::find_if(def.containers.begin(), def.containers.end(),
                           [&](const taskdef::ContainerDefinition& c) { return c.name == name; });
    if (it == def.containers.end())
        return Error::invalid(path, ".name: ", quoted(name), " is no container of the task");
    for (const auto& [key, value] : o.items()) {
        const auto at = cat(path, ".", key);
        if (key == "name")
            continue;
        if (key == "command") {
            auto args = strings_of(value, at);
            if (!args)
                return std::move(args).error();
            it->command = std::move(*args);
        } else if (key == "environment") {
            if (auto r = merge_environment(*it, value, at); !r)
                return r;
        } else if (key == "cpu" || key == "memory" || key == "memoryReservation") {
            auto units = units_of(value, at);
            if (!units)
                return std::move(units).error();
            (key == "cpu"      ? it->cpu
             : key == "memory" ? it->memory
                               : it->memory_reservation) = *units;
        } else {
            return Error::invalid(at, ": not supported by berth");
        }
    }
    return {};
}

Result<std::optional<int>> task_units(const json& value, const std::string& path)
{
    if (!value.is_string())
        return Error::invalid(path, ": a string of digits expected");
    const auto text = value.get<std::string>();
    if (text.empty() || text.size() > 7 ||
        !std::all_of(text.begin(), text.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        return Error::invalid(path, ": ", quoted(text), " is not a whole number");
    return std::optional<int>(std::stoi(text));
}

} // namespace

Result<void> apply_overrides(taskdef::TaskDefinition& def, std::string_view overrides_json)
{
    const json o = json::parse(overrides_json, nullptr, false);
    if (o.is_discarded() || !o.is_object())
        return Error::invalid("overrides: a JSON object expected");
    for (const auto& [key, value] : o.items()) {
        const auto path = cat("overrides.", key);
        if (key == "containerOverrides") {
            if (!value.is_array())
                return Error::invalid(path, ": an array expected");
            for (std::size_t i = 0; i < value.size(); ++i)
                if (auto r = apply_container(def, value[i], cat(path, "[", i, "]")); !r)
                    return r;
        } else if (key == "cpu" || key == "memory") {
            auto units = task_units(value, path);
            if (!units)
                return std::move(units).error();
            (key == "cpu" ? def.cpu : def.memory) = *units;
        } else {
            return Error::invalid(path, ": not supported by berth");
        }
    }
    return {};
}

} // namespace berth::daemon
