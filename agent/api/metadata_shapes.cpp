// agent/api/metadata_shapes.cpp — the task metadata endpoint's routes and response shapes, as the
// ECS agent's v3/v4 handlers publish them (docs: "Amazon ECS task metadata v4 JSON response"):
// container {DockerId, Name, DockerName, Image, Labels, DesiredStatus, KnownStatus, Limits
// {CPU units, Memory MiB}, Type, ContainerARN, ExitCode, Ports, Networks}; task {Cluster, TaskARN,
// Family, Revision, DesiredStatus, KnownStatus, Limits {CPU vCPUs, Memory MiB}, PullStartedAt,
// PullStoppedAt, ExecutionStoppedAt, LaunchType, Containers}. Not shown because berth does not
// track them: ImageID, CreatedAt/StartedAt per container, and a bridge task's IPv4Addresses.
#include <ctime>
#include <openssl/crypto.h>
#include <nlohmann/json.hpp>
#include "agent/api/metadata.hpp"
#include "base/strings.hpp"

namespace berth::api {
namespace {

using nlohmann::json;

std::string dump(const json& value)
{
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The ECS agent answers its metadata errors as a JSON string.
MetadataResponse error(unsigned status, const std::string& message)
{
    return {status, dump(json(message))};
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

std::pair<std::string, std::string> family_revision(const std::string& arn)
{
    const auto slash = arn.rfind('/');
    const auto name = slash == std::string::npos ? arn : arn.substr(slash + 1);
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

std::string lower(std::string_view text)
{
    std::string out(text);
    for (auto& ch : out)
        if (ch >= 'A' && ch <= 'Z')
            ch = static_cast<char>(ch - 'A' + 'a');
    return out;
}

// "256", "0.25 vCPU", "1 vcpu" -> vCPUs; "512", "1 GB" -> MiB. nullopt when unset or unreadable.
std::optional<double> task_cpu_vcpus(const std::string& text)
{
    if (text.empty())
        return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || v <= 0)
        return std::nullopt;
    return lower(trim(end)) == "vcpu" ? v : v / 1024.0;
}

std::optional<double> task_memory_mib(const std::string& text)
{
    if (text.empty())
        return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || v <= 0)
        return std::nullopt;
    return lower(trim(end)) == "gb" ? v * 1024 : v;
}

// A string member, or fallback when absent or not a string (definitions come from API clients).
std::string string_field(const json& object, const char* name, const std::string& fallback)
{
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

json number_field(const json& object, const char* name)
{
    const auto it = object.find(name);
    return it != object.end() && it->is_number() ? *it : json(0);
}

// The container's definition, with RunTask's containerOverrides cpu/memory on top.
json container_definition(const json& definition, const json& overrides, const std::string& name)
{
    json out = json::object();
    if (const auto defs = definition.find("containerDefinitions");
        defs != definition.end() && defs->is_array())
        for (const auto& d : *defs)
            if (d.is_object() && d.value("name", json()) == name)
                out = d;
    if (const auto list = overrides.find("containerOverrides");
        list != overrides.end() && list->is_array())
        for (const auto& o : *list)
            if (o.is_object() && o.value("name", json()) == name)
                for (const char* key : {"cpu", "memory"})
                    if (auto v = o.find(key); v != o.end() && v->is_number())
                        out[key] = *v;
    return out;
}

json ports(const std::string& bindings_text)
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

json networks(const std::string& mode, const std::string& interfaces_text)
{
    json network = {{"NetworkMode", mode}};
    const auto interfaces = json::parse(interfaces_text, nullptr, false);
    json addresses = json::array();
    if (interfaces.is_array())
        for (const auto& i : interfaces)
            if (i.is_object())
                if (auto a = i.find("privateIpv4Address"); a != i.end() && a->is_string())
                    addresses.push_back(*a);
    if (!addresses.empty()) {
        network["IPv4Addresses"] = std::move(addresses);
        network["AttachmentIndex"] = 0;
    }
    return json::array({std::move(network)});
}

struct TaskView {
    const store::Task& task;
    json definition; // {} when unknown
    json overrides;
};

json container_json(const TaskView& view, const store::Container& c, const std::string& cluster,
                    bool v4)
{
    const auto& task = view.task;
    const auto [family, revision] = family_revision(task.task_definition_arn);
    const auto def = container_definition(view.definition, view.overrides, c.name);
    json labels = {{"com.amazonaws.ecs.cluster", cluster},
                   {"com.amazonaws.ecs.container-name", c.name},
                   {"com.amazonaws.ecs.task-arn", task.arn},
                   {"com.amazonaws.ecs.task-definition-family", family},
                   {"com.amazonaws.ecs.task-definition-version", revision}};
    if (auto docker = def.find("dockerLabels"); docker != def.end() && docker->is_object())
        for (const auto& [k, v] : docker->items())
            if (v.is_string())
                labels[k] = v;
    json out = {{"DockerId", c.runtime_id},
                {"Name", c.name},
                {"DockerName", last_component(task.arn) + "-" + c.name},
                {"Image", c.image},
                {"Labels", std::move(labels)},
                {"DesiredStatus", c.desired_status},
                {"KnownStatus", c.last_status},
                {"Limits", {{"CPU", number_field(def, "cpu")}}},
                {"Type", "NORMAL"}};
    if (const auto memory = number_field(def, "memory"); memory != json(0))
        out["Limits"]["Memory"] = memory;
    if (c.exit_code)
        out["ExitCode"] = *c.exit_code;
    if (auto p = ports(c.network_bindings); !p.empty())
        out["Ports"] = std::move(p);
    out["Networks"] =
        networks(string_field(view.definition, "networkMode", "bridge"), c.network_interfaces);
    if (v4) {
        out["ContainerARN"] = c.arn;
        if (auto log = def.find("logConfiguration"); log != def.end() && log->is_object()) {
            out["LogDriver"] = string_field(*log, "logDriver", "json-file");
            if (auto o = log->find("options"); o != log->end() && o->is_object() && !o->empty())
                out["LogOptions"] = *o;
        }
    }
    return out;
}

json task_json(const TaskView& view, const std::string& cluster, bool v4)
{
    const auto& task = view.task;
    const auto [family, revision] = family_revision(task.task_definition_arn);
    json containers = json::array();
    for (const auto& c : task.containers)
        containers.push_back(container_json(view, c, cluster, v4));
    json out = {{"Cluster", cluster},
                {"TaskARN", task.arn},
                {"Family", family},
                {"Revision", revision},
                {"DesiredStatus", task.desired_status},
                {"KnownStatus", task.last_status},
                {"Containers", std::move(containers)}};
    json limits = json::object();
    if (const auto cpu = task_cpu_vcpus(task.cpu))
        limits["CPU"] = *cpu;
    if (const auto memory = task_memory_mib(task.memory))
        limits["Memory"] = *memory;
    if (!limits.empty())
        out["Limits"] = std::move(limits);
    if (task.pull_started_at != 0)
        out["PullStartedAt"] = rfc3339(task.pull_started_at);
    if (task.pull_stopped_at != 0)
        out["PullStoppedAt"] = rfc3339(task.pull_stopped_at);
    if (task.stopped_at != 0)
        out["ExecutionStoppedAt"] = rfc3339(task.stopped_at);
    if (v4)
        out["LaunchType"] = "EXTERNAL";
    return out;
}

struct Route {
    bool v4 = true;
    std::string id;
    std::string rest; // "", "task", "stats", "task/stats", or anything else (404)
};

// The shape metadata_id() makes (8-4-4-4-12 lowercase hex): anything else cannot be a
// container's id and is answered without touching the task engine.
bool is_id_shaped(std::string_view id)
{
    if (id.size() != 36)
        return false;
    for (std::size_t i = 0; i < id.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        const char ch = id[i];
        if (dash ? ch != '-' : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return false;
    }
    return true;
}

// Both are id-shaped (36 bytes): compared in constant time, so the time to answer tells a
// container nothing about how close a guess came to another container's id.
bool same_id(const std::string& a, const std::string& b)
{
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<Route> route_of(std::string_view path)
{
    for (const auto& [prefix, v4] : {std::pair{"/v4/", true}, std::pair{"/v3/", false}}) {
        if (!path.starts_with(prefix))
            continue;
        auto tail = path.substr(std::string_view(prefix).size());
        while (tail.ends_with('/'))
            tail.remove_suffix(1);
        const auto slash = tail.find('/');
        Route r{v4, std::string(tail.substr(0, slash)), ""};
        if (slash != std::string_view::npos)
            r.rest = std::string(tail.substr(slash + 1));
        return r;
    }
    return std::nullopt;
}

MetadataResponse credentials_refused()
{
    // The ECS agent's answer for an id it holds no credentials for.
    return {400, dump({{"code", "InvalidIdInRequest"},
                       {"message", "CredentialsV2Request: Credentials not found (standalone berth "
                                   "has no task IAM roles)"},
                       {"HTTPErrorCode", 400}})};
}

MetadataResponse answer(const MetadataSource& source, const Route& route)
{
    if (!route.rest.empty() && route.rest != "task" && route.rest != "stats" &&
        route.rest != "task/stats")
        return error(404, cat("no such metadata path: ", route.rest,
                              " (try the container itself, /task, /stats or /task/stats)"));
    const auto not_found = [&route] {
        return error(404, cat(route.v4 ? "V4" : "V3",
                              " container metadata handler: unable to get container for id ",
                              route.id, ": no such container on this node"));
    };
    // Every lookup runs on berthd's loop: a made-up id costs nothing, and a real one is searched
    // among the unfinished tasks only (a container's URI answers while its task is not yet
    // cleaned up), never the whole task history.
    if (!is_id_shaped(route.id))
        return not_found();
    store::TaskFilter filter;
    filter.cluster = source.node.cluster;
    filter.unfinished_only = true;
    auto tasks = source.engine.list_tasks(filter);
    if (!tasks)
        return error(500, "list tasks: " + tasks.error().message());
    for (const auto& task : *tasks)
        for (const auto& c : task.containers) {
            if (!same_id(metadata_id(source.key, task.arn, c.name), route.id))
                continue;
            if (route.rest.ends_with("stats"))
                return error(501, "berth does not serve container statistics yet (the runtime "
                                  "exposes no per-container stats to berthd)");
            auto definition_text = source.definition(task.task_definition_arn);
            TaskView view{task, json::parse(definition_text.value_or("{}"), nullptr, false),
                          json::parse(task.overrides, nullptr, false)};
            if (!view.definition.is_object())
                view.definition = json::object();
            if (!view.overrides.is_object())
                view.overrides = json::object();
            const auto& cluster = task.cluster.empty() ? source.node.cluster : task.cluster;
            if (route.rest == "task")
                return {200, dump(task_json(view, cluster, route.v4))};
            return {200, dump(container_json(view, c, cluster, route.v4))};
        }
    return not_found();
}

} // namespace

MetadataResponse metadata_response(const MetadataSource& source, std::string_view target)
{
    const auto path = target.substr(0, target.find('?'));
    try {
        if (path.starts_with("/v2/credentials"))
            return credentials_refused();
        if (const auto route = route_of(path); route && !route->id.empty())
            return answer(source, *route);
    } catch (const std::exception& e) { // nlohmann::json, std::bad_alloc
        return error(500, std::string("internal error: ") + e.what());
    }
    return error(404, "no such metadata path; containers find theirs in "
                      "ECS_CONTAINER_METADATA_URI_V4");
}

} // namespace berth::api
