// agent/api/introspection_shapes.cpp — the introspection API's routes and the ECS agent's v1
// response shapes (agent/handlers/v1 of amazon-ecs-agent): MetadataResponse, TasksResponse,
// TaskResponse and ContainerResponse with Ports. DockerId is the runtime's container id and
// DockerName the name berth gives it (<task-id>-<container>).
#include <algorithm>
#include <nlohmann/json.hpp>
#include "agent/api/ecs_json.hpp"
#include "agent/api/introspection.hpp"

namespace berth::api {
namespace {

using nlohmann::json;

IntrospectionResponse error(unsigned status, const std::string& message)
{
    return {status, dump({{"error", message}})};
}

json task_json(const store::Task& task)
{
    const auto [family, version] = family_revision(task.task_definition_arn);
    const auto id = last_component(task.arn);
    json containers = json::array();
    for (const auto& c : task.containers) {
        json container = {
            {"DockerId", c.runtime_id}, {"DockerName", id + "-" + c.name}, {"Name", c.name}};
        if (auto ports = ports_json(c.network_bindings); !ports.empty())
            container["Ports"] = std::move(ports);
        containers.push_back(std::move(container));
    }
    json out = {{"Arn", task.arn},
                {"KnownStatus", task.last_status},
                {"Family", family},
                {"Version", version},
                {"Containers", std::move(containers)}};
    // As the ECS agent: a desired status that contradicts the known one is left out.
    const bool contradicts = (task.last_status == "STOPPED" && task.desired_status != "STOPPED") ||
                             (task.last_status == "RUNNING" && task.desired_status == "PENDING");
    if (!contradicts && !task.desired_status.empty())
        out["DesiredStatus"] = task.desired_status;
    return out;
}

IntrospectionResponse not_found()
{
    return {404, dump({{"Arn", ""},
                       {"KnownStatus", ""},
                       {"Family", ""},
                       {"Version", ""},
                       {"Containers", nullptr}})};
}

// The task whose container has runtime id `id` (or, up to 12 characters, an id starting so).
IntrospectionResponse by_docker_id(const std::vector<store::Task>& tasks, const std::string& id)
{
    const store::Task* found = nullptr;
    for (const auto& t : tasks)
        for (const auto& c : t.containers)
            if (!c.runtime_id.empty() &&
                (c.runtime_id == id || (id.size() <= 12 && c.runtime_id.starts_with(id)))) {
                if (found != nullptr && found != &t)
                    return error(400, "dockerid " + id + " matches several tasks");
                found = &t;
            }
    return found != nullptr ? IntrospectionResponse{200, dump(task_json(*found))} : not_found();
}

IntrospectionResponse tasks_response(const NodeInfo& node, ControlPlane& engine,
                                     std::string_view query)
{
    std::optional<std::string> task_arn, docker_id;
    for (const auto pair : split(query, '&')) {
        const auto eq = pair.find('=');
        const auto key = pair.substr(0, eq);
        auto value = url_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
        if (!value)
            return error(400, "malformed query string");
        if (key == "taskarn")
            task_arn = std::move(value);
        else if (key == "dockerid")
            docker_id = std::move(value);
    }
    if (task_arn && docker_id)
        return error(400, "give taskarn or dockerid, not both");
    // An empty dockerid would be a prefix of every container's id.
    if ((task_arn && task_arn->empty()) || (docker_id && docker_id->empty()))
        return error(400, task_arn ? "taskarn is empty" : "dockerid is empty");
    store::TaskFilter filter;
    filter.cluster = node.cluster;
    auto tasks = engine.list_tasks(filter);
    if (!tasks)
        return error(500, "list tasks: " + tasks.error().message());
    if (task_arn) {
        const auto it = std::find_if(tasks->begin(), tasks->end(),
                                     [&](const store::Task& t) { return t.arn == *task_arn; });
        return it != tasks->end() ? IntrospectionResponse{200, dump(task_json(*it))} : not_found();
    }
    if (docker_id)
        return by_docker_id(*tasks, *docker_id);
    json all = json::array();
    for (const auto& t : *tasks)
        all.push_back(task_json(t));
    return {200, dump({{"Tasks", std::move(all)}})};
}

} // namespace

std::optional<std::string> url_decode(std::string_view text)
{
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] == '%') {
            if (i + 2 >= text.size())
                return std::nullopt;
            const auto byte = parse_int<unsigned>(text.substr(i + 1, 2), 16);
            if (!byte)
                return std::nullopt;
            out += static_cast<char>(*byte);
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

IntrospectionResponse introspection_response(const NodeInfo& node, ControlPlane& engine,
                                             std::string_view target)
{
    const auto question = target.find('?');
    const auto path = target.substr(0, question);
    const auto query =
        question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
    try {
        if (path == "/v1/metadata" || path == "/v1/metadata/")
            return {200, dump({{"Cluster", node.cluster},
                               {"ContainerInstanceArn", node.container_instance_arn},
                               {"Version", "berth " + node.version}})};
        if (path == "/v1/tasks" || path == "/v1/tasks/")
            return tasks_response(node, engine, query);
    } catch (const std::exception& e) { // nlohmann::json, std::bad_alloc
        return error(500, std::string("internal error: ") + e.what());
    }
    return error(404, "no such introspection path; try /v1/metadata or /v1/tasks");
}

} // namespace berth::api
