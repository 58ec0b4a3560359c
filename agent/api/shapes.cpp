// agent/api/shapes.cpp — store records as ECS response objects (see shapes.hpp).
#include "agent/api/shapes.hpp"
#include "agent/api/arns.hpp"

namespace berth::api {
namespace {

using nlohmann::json;

void set_time(json& out, const char* name, std::int64_t seconds)
{
    if (seconds != 0)
        out[name] = seconds;
}

void set_text(json& out, const char* name, const std::string& value)
{
    if (!value.empty())
        out[name] = value;
}

// ECS fills these into each container definition it returns.
void container_defaults(json& container)
{
    if (!container.is_object())
        return;
    for (const char* list : {"portMappings", "environment", "mountPoints", "volumesFrom"})
        if (!container.contains(list))
            container[list] = json::array();
    if (!container.contains("cpu"))
        container["cpu"] = 0;
    if (!container.contains("essential"))
        container["essential"] = true;
}

json container_json(const store::Task& task, const store::Container& c)
{
    json out = {{"containerArn", c.arn},
                {"taskArn", task.arn},
                {"name", c.name},
                {"image", c.image},
                {"lastStatus", c.last_status},
                {"healthStatus", c.health_status.empty() ? "UNKNOWN" : c.health_status}};
    json interfaces = json::parse(c.network_interfaces, nullptr, false);
    out["networkInterfaces"] = interfaces.is_array() ? interfaces : json::array();
    set_text(out, "runtimeId", c.runtime_id);
    if (c.exit_code)
        out["exitCode"] = *c.exit_code;
    set_text(out, "reason", c.reason);
    json bindings = json::parse(c.network_bindings, nullptr, false);
    out["networkBindings"] = bindings.is_array() ? bindings : json::array();
    return out;
}

} // namespace

json tags_json(const std::vector<store::Tag>& tags)
{
    json out = json::array();
    for (const auto& [key, value] : tags)
        out.push_back({{"key", key}, {"value", value}});
    return out;
}

json failure_json(const std::string& arn, const std::string& reason, const std::string& detail)
{
    json out = {{"arn", arn}, {"reason", reason}};
    set_text(out, "detail", detail);
    return out;
}

json task_definition_json(const Options& options, const store::TaskDefinition& def)
{
    json out = json::parse(def.body, nullptr, false);
    if (!out.is_object())
        out = json::object(); // the store only holds what register validated: not reached
    out["taskDefinitionArn"] = task_definition_arn(options, def.family, def.revision);
    out["family"] = def.family;
    out["revision"] = def.revision;
    out["status"] = def.status;
    out["registeredAt"] = def.registered_at;
    set_time(out, "deregisteredAt", def.deregistered_at);
    out["compatibilities"] = json::array({"EXTERNAL", "EC2"});
    if (!out.contains("networkMode"))
        out["networkMode"] = "bridge";
    for (const char* list : {"volumes", "placementConstraints", "requiresAttributes"})
        if (!out.contains(list))
            out[list] = json::array();
    if (auto it = out.find("containerDefinitions"); it != out.end() && it->is_array())
        for (auto& container : *it)
            container_defaults(container);
    return out;
}

// ECS: non-essential containers and containers without a healthCheck (always UNKNOWN) do not
// count; of the rest, UNHEALTHY wins over UNKNOWN, which wins over HEALTHY. No container that
// counts: UNKNOWN.
std::string task_health_status(const store::Task& task)
{
    bool counted = false, unknown = false;
    for (const auto& c : task.containers) {
        if (!c.essential || !c.health_check)
            continue;
        counted = true;
        if (c.health_status == "UNHEALTHY")
            return "UNHEALTHY";
        if (c.health_status != "HEALTHY")
            unknown = true;
    }
    return counted && !unknown ? "HEALTHY" : "UNKNOWN";
}

json task_json(const Options& options, const store::Task& task)
{
    json out = {{"taskArn", task.arn},
                {"clusterArn", cluster_arn(options, task.cluster)},
                {"taskDefinitionArn", task.task_definition_arn},
                {"containerInstanceArn", task.container_instance_arn},
                {"lastStatus", task.last_status},
                {"desiredStatus", task.desired_status},
                {"launchType", "EXTERNAL"},
                {"version", task.version},
                {"healthStatus", task_health_status(task)},
                {"attachments", json::array()},
                {"containers", json::array()}};
    json overrides = json::parse(task.overrides, nullptr, false);
    out["overrides"] = overrides.is_object() ? overrides : json::object();
    set_text(out, "cpu", task.cpu);
    set_text(out, "memory", task.memory);
    set_text(out, "startedBy", task.started_by);
    set_text(out, "group", task.group);
    set_text(out, "stoppedReason", task.stopped_reason);
    set_text(out, "stopCode", task.stop_code);
    set_time(out, "createdAt", task.created_at);
    set_time(out, "startedAt", task.started_at);
    set_time(out, "stoppingAt", task.stopping_at);
    set_time(out, "stoppedAt", task.stopped_at);
    set_time(out, "pullStartedAt", task.pull_started_at);
    set_time(out, "pullStoppedAt", task.pull_stopped_at);
    for (const auto& c : task.containers)
        out["containers"].push_back(container_json(task, c));
    return out;
}

} // namespace berth::api
