// agent/api/metadata_shapes.cpp — the task metadata endpoint's routes and response shapes, as the
// ECS agent's v3/v4 handlers publish them (docs: "Amazon ECS task metadata v4 JSON response"):
// container {DockerId, Name, DockerName, Image, Labels, DesiredStatus, KnownStatus, Limits
// {CPU units, Memory MiB}, Type, ContainerARN, ExitCode, Ports, Networks}; task {Cluster, TaskARN,
// Family, Revision, DesiredStatus, KnownStatus, Limits {CPU vCPUs, Memory MiB}, PullStartedAt,
// PullStoppedAt, ExecutionStoppedAt, LaunchType, Containers}, with ImageID and CreatedAt/StartedAt/
// FinishedAt per container from the engine (ControlPlane::container_details); /stats and
// /task/stats in Docker's stats JSON (metadata_stats.cpp); /taskWithTags adds TaskTags and
// ContainerInstanceTags (ListTagsForResource's, from the store). Not shown because berth does not
// track it: a bridge task's IPv4Addresses.
#include <openssl/crypto.h>
#include <nlohmann/json.hpp>
#include "agent/api/ecs_json.hpp"
#include "agent/api/metadata.hpp"
#include "agent/api/metadata_stats.hpp"
#include "base/strings.hpp"

namespace berth::api {
namespace {

using nlohmann::json;

// The ECS agent answers its metadata errors as a JSON string.
MetadataResponse error(unsigned status, const std::string& message)
{
    return {status, dump(json(message))};
}

std::string lower(std::string_view text)
{
    std::string out(text);
    for (auto& ch : out)
        if (ch >= 'A' && ch <= 'Z')
            ch = static_cast<char>(ch - 'A' + 'a');
    return out;
}

// A task-level size as ECS writes it: a number, optionally followed by `unit` (any case).
// with_unit/without scale it into the shown unit. nullopt when unset or unreadable.
std::optional<double> task_size(const std::string& text, std::string_view unit, double with_unit,
                                double without)
{
    if (text.empty())
        return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || v <= 0)
        return std::nullopt;
    return v * (lower(trim(end)) == unit ? with_unit : without);
}

// "256", "0.25 vCPU", "1 vcpu" -> vCPUs; "512", "1 GB" -> MiB.
std::optional<double> task_cpu_vcpus(const std::string& text)
{
    return task_size(text, "vcpu", 1, 1 / 1024.0);
}

std::optional<double> task_memory_mib(const std::string& text)
{
    return task_size(text, "gb", 1024, 1);
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
    std::vector<ContainerDetail> details; // the engine's, by name
};

void add_detail(json& out, const TaskView& view, const std::string& name)
{
    for (const auto& d : view.details) {
        if (d.name != name)
            continue;
        if (!d.image_id.empty())
            out["ImageID"] = d.image_id;
        if (d.created_at)
            out["CreatedAt"] = rfc3339_ms(*d.created_at);
        if (d.started_at)
            out["StartedAt"] = rfc3339_ms(*d.started_at);
        if (d.finished_at)
            out["FinishedAt"] = rfc3339_ms(*d.finished_at);
    }
}

// v4's LogDriver and LogOptions (the string options: what a log driver takes) from the
// container's logConfiguration.
void add_log(json& out, const json& def)
{
    const auto log = def.find("logConfiguration");
    if (log == def.end() || !log->is_object())
        return;
    out["LogDriver"] = string_field(*log, "logDriver", "json-file");
    json options = json::object();
    if (auto o = log->find("options"); o != log->end() && o->is_object())
        for (const auto& [k, v] : o->items())
            if (v.is_string())
                options[k] = v;
    if (!options.empty())
        out["LogOptions"] = std::move(options);
}

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
    if (auto p = ports_json(c.network_bindings); !p.empty())
        out["Ports"] = std::move(p);
    out["Networks"] =
        networks(string_field(view.definition, "networkMode", "bridge"), c.network_interfaces);
    add_detail(out, view, c.name);
    if (v4) {
        out["ContainerARN"] = c.arn;
        add_log(out, def);
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
    // "", "task", "taskWithTags", "stats", "task/stats", or anything else (404)
    std::string rest;
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

// One container's Docker stats; null when it has no cgroup now (not created yet, or gone), as
// the ECS agent shows a container it has no statistics for.
Result<json> stats_of(const MetadataSource& source, const store::Task& task,
                      const store::Container& c, bool v4)
{
    auto sample = source.engine.container_sample(task.arn, c.name);
    if (!sample)
        return std::move(sample).error();
    if (!*sample)
        return json(nullptr);
    std::optional<ContainerSample> previous;
    if (source.history)
        previous = source.history->exchange(c.runtime_id, **sample);
    return docker_stats(**sample, previous ? &*previous : nullptr, c.runtime_id,
                        last_component(task.arn) + "-" + c.name, v4);
}

MetadataResponse container_stats(const MetadataSource& source, const store::Task& task,
                                 const store::Container& c, bool v4)
{
    auto stats = stats_of(source, task, c, v4);
    if (!stats)
        return error(500, "container statistics: " + stats.error().message());
    return {200, dump(*stats)};
}

// {DockerId: stats, ...} for every container of the task.
MetadataResponse task_stats(const MetadataSource& source, const store::Task& task, bool v4)
{
    json out = json::object();
    for (const auto& c : task.containers) {
        if (c.runtime_id.empty())
            continue; // never made: no id to key it by
        auto stats = stats_of(source, task, c, v4);
        if (!stats)
            return error(500, "container statistics: " + stats.error().message());
        out[c.runtime_id] = std::move(*stats);
    }
    return {200, dump(out)};
}

// {key: value} of arn's tags into out[field], left out when there are none (the ECS agent's
// omitempty); a failure to read them goes into out["Errors"] as the ECS agent reports a failed
// ListTagsForResource there, the task metadata still answered.
void add_tags(json& out, const MetadataSource& source, const char* field, const std::string& arn)
{
    if (!source.tags)
        return;
    auto found = source.tags(arn);
    if (!found) {
        out["Errors"].push_back({{"ErrorField", field},
                                 {"ErrorCode", "InternalError"},
                                 {"ErrorMessage", found.error().message()},
                                 {"StatusCode", 500},
                                 {"RequestId", ""},
                                 {"ResourceARN", arn}});
        return;
    }
    if (found->empty())
        return;
    json tags = json::object();
    for (const auto& [key, value] : *found)
        tags[key] = value;
    out[field] = std::move(tags);
}

// <id>/taskWithTags (v3 and v4): the task's metadata with TaskTags and ContainerInstanceTags.
json task_with_tags(const MetadataSource& source, const TaskView& view, const std::string& cluster,
                    bool v4)
{
    json out = task_json(view, cluster, v4);
    add_tags(out, source, "TaskTags", view.task.arn);
    add_tags(out, source, "ContainerInstanceTags", source.node.container_instance_arn);
    return out;
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
    const bool known = route.rest.empty() || route.rest == "task" || route.rest == "stats" ||
                       route.rest == "task/stats" || route.rest == "taskWithTags";
    if (!known)
        return error(404, cat("no such metadata path: ", route.rest,
                              " (try the container itself, /task, /taskWithTags, /stats or "
                              "/task/stats)"));
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
            if (route.rest == "stats")
                return container_stats(source, task, c, route.v4);
            if (route.rest == "task/stats")
                return task_stats(source, task, route.v4);
            auto details = source.engine.container_details(task.arn);
            if (!details)
                return error(500, "container details: " + details.error().message());
            auto definition_text = source.definition(task.task_definition_arn);
            TaskView view{task, json::parse(definition_text.value_or("{}"), nullptr, false),
                          json::parse(task.overrides, nullptr, false), std::move(*details)};
            if (!view.definition.is_object())
                view.definition = json::object();
            if (!view.overrides.is_object())
                view.overrides = json::object();
            const auto& cluster = task.cluster.empty() ? source.node.cluster : task.cluster;
            if (route.rest == "task")
                return {200, dump(task_json(view, cluster, route.v4))};
            if (route.rest == "taskWithTags")
                return {200, dump(task_with_tags(source, view, cluster, route.v4))};
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
