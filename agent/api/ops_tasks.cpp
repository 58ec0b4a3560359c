// agent/api/ops_tasks.cpp — RunTask, StartTask, StopTask, DescribeTasks, ListTasks: the API side
// checks the input and resolves the task definition, the engine (ControlPlane) does the rest.
#include <algorithm>
#include <cerrno>
#include "agent/api/arns.hpp"
#include "agent/api/operations.hpp"
#include "agent/api/shapes.hpp"

namespace berth::api {
namespace {

using nlohmann::json;

// ClientException, not ServerException: botocore retries 5xx answers, and this one will not
// change by retrying.
ApiError no_engine()
{
    return client_exception("no task engine is attached to this API endpoint: tasks run only "
                            "under berthd");
}

ApiError engine_failure(const Error& error, std::string_view doing)
{
    if (error.bad_input && error.code == EEXIST) // a clientToken used for another request
        return conflict_exception(error.message());
    if (error.bad_input)
        return invalid_parameter(error.message());
    return server_exception(cat(doing, ": ", error.message()));
}

std::string dump(const json& value)
{
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

Reply tasks_reply(Context& c, const RunTaskResult& result)
{
    json body = {{"tasks", json::array()}, {"failures", json::array()}};
    for (const auto& task : result.tasks)
        body["tasks"].push_back(task_json(c.options, task));
    for (const auto& f : result.failures)
        body["failures"].push_back(failure_json(f.arn, f.reason, f.detail));
    return ok(std::move(body));
}

// ECS: up to 64 ASCII characters in the range 33-126.
bool valid_client_token(const std::string& token)
{
    return token.size() <= 64 &&
           std::all_of(token.begin(), token.end(), [](char ch) { return ch >= 33 && ch <= 126; });
}

// What RunTask and StartTask share: the input, resolved into an engine request.
std::optional<RunTaskRequest> read_run_request(Context& c, Input& input, const json& in)
{
    RunTaskRequest request;
    request.cluster = cluster_input(c, input);
    const auto text = input.required_string("taskDefinition");
    if (const auto* overrides = input.object("overrides"))
        request.overrides = dump(*overrides);
    if (const auto* network = input.object("networkConfiguration"))
        request.network_configuration = dump(*network);
    request.started_by = input.string("startedBy").value_or("");
    if (request.started_by.size() > 128)
        input.fail(invalid_parameter("startedBy: up to 128 characters"));
    request.group = input.string("group").value_or("");
    request.tags = input.tags("tags");
    input.one_of("launchType", input.string("launchType"), {"EXTERNAL"});
    (void)in;
    if (input.error())
        return std::nullopt;
    const auto ref = parse_task_definition_ref(text);
    if (!ref) {
        input.fail(invalid_parameter(
            cat("taskDefinition: ", quoted(text), " is not a family, family:revision or ARN")));
        return std::nullopt;
    }
    auto def = c.store.task_definition(ref->family, ref->revision);
    if (!def) {
        input.fail(store_failure(def.error(), "read task definition"));
        return std::nullopt;
    }
    if (!*def) {
        input.fail(client_exception(cat("Unable to find task definition ", quoted(text))));
        return std::nullopt;
    }
    if ((*def)->status != "ACTIVE") {
        input.fail(client_exception(
            cat("TaskDefinition is inactive: ", quoted(text), " was deregistered and cannot run")));
        return std::nullopt;
    }
    request.task_definition = std::move(**def);
    request.task_definition_arn = task_definition_arn(c.options, request.task_definition.family,
                                                      request.task_definition.revision);
    return request;
}

} // namespace

Reply run_task(Context& c, const json& in)
{
    Input input(in);
    const auto count = input.integer("count", 1, 10);
    const auto token = input.string("clientToken").value_or("");
    if (!token.empty() && !valid_client_token(token))
        input.fail(invalid_parameter("clientToken: up to 64 ASCII characters from 33 to 126"));
    auto request = read_run_request(c, input, in);
    if (!request)
        return fail(*input.error());
    if (c.engine == nullptr)
        return fail(no_engine());
    request->count = static_cast<int>(count.value_or(1));
    request->client_token = token;
    auto result = c.engine->run_task(*request);
    if (!result)
        return fail(engine_failure(result.error(), "run task"));
    return tasks_reply(c, *result);
}

Reply start_task(Context& c, const json& in)
{
    Input input(in);
    const auto instances = input.strings("containerInstances", true);
    if (instances.size() > 10)
        input.fail(invalid_parameter("containerInstances: at most 10"));
    auto request = read_run_request(c, input, in);
    if (!request)
        return fail(*input.error());
    auto mine = c.store.container_instances(c.options.cluster);
    if (!mine || mine->empty())
        return fail(server_exception("this node has no container instance record"));
    const std::string& arn = mine->front().arn;
    const std::string id = arn.substr(arn.rfind('/') + 1);
    RunTaskResult result;
    int here = 0;
    for (const auto& text : instances) {
        if (text == arn || text == id)
            ++here;
        else
            result.failures.push_back(Failure{text, "MISSING", ""});
    }
    if (here > 0) {
        if (c.engine == nullptr)
            return fail(no_engine());
        request->count = here;
        auto started = c.engine->run_task(*request);
        if (!started)
            return fail(engine_failure(started.error(), "start task"));
        result.tasks = std::move(started->tasks);
        result.failures.insert(result.failures.end(), started->failures.begin(),
                               started->failures.end());
    }
    return tasks_reply(c, result);
}

Reply stop_task(Context& c, const json& in)
{
    Input input(in);
    const auto cluster = cluster_input(c, input);
    const auto text = input.required_string("task");
    const auto reason = input.string("reason").value_or("");
    if (reason.size() > 255)
        input.fail(invalid_parameter("reason: up to 255 characters"));
    if (input.error())
        return fail(*input.error());
    const auto arn = parse_task(c.options, cluster, text);
    if (!arn)
        return fail(invalid_parameter(cat("task: ", quoted(text), " is not a task ARN or id")));
    if (c.engine == nullptr)
        return fail(no_engine());
    auto task = c.engine->stop_task(StopTaskRequest{cluster, *arn, reason});
    if (!task)
        return fail(engine_failure(task.error(), "stop task"));
    if (!*task)
        return fail(invalid_parameter(cat("The referenced task was not found: ", quoted(text))));
    return ok({{"task", task_json(c.options, **task)}});
}

Reply describe_tasks(Context& c, const json& in)
{
    Input input(in);
    const auto cluster = cluster_input(c, input);
    const auto wanted = input.strings("tasks", true);
    if (wanted.size() > 100)
        input.fail(invalid_parameter("tasks: at most 100"));
    const auto include = input.strings("include");
    if (input.error())
        return fail(*input.error());
    if (c.engine == nullptr)
        return fail(no_engine());
    std::vector<std::string> arns;
    json body = {{"tasks", json::array()}, {"failures", json::array()}};
    for (const auto& text : wanted) {
        if (auto arn = parse_task(c.options, cluster, text))
            arns.push_back(*arn);
        else
            body["failures"].push_back(failure_json(text, "MISSING"));
    }
    auto tasks = c.engine->describe_tasks(cluster, arns);
    if (!tasks)
        return fail(engine_failure(tasks.error(), "describe tasks"));
    const bool with_tags = std::find(include.begin(), include.end(), "TAGS") != include.end();
    for (const auto& arn : arns) {
        const auto it = std::find_if(tasks->begin(), tasks->end(),
                                     [&](const store::Task& t) { return t.arn == arn; });
        if (it == tasks->end()) {
            body["failures"].push_back(failure_json(arn, "MISSING"));
            continue;
        }
        json task = task_json(c.options, *it);
        if (with_tags) {
            auto tags = c.store.tags(arn);
            if (!tags)
                return fail(store_failure(tags.error(), "read tags"));
            task["tags"] = tags_json(*tags);
        }
        body["tasks"].push_back(std::move(task));
    }
    return ok(std::move(body));
}

Reply list_tasks(Context& c, const json& in)
{
    Input input(in);
    store::TaskFilter filter;
    filter.cluster = cluster_input(c, input);
    filter.family = input.string("family").value_or("");
    filter.started_by = input.string("startedBy").value_or("");
    const auto desired = input.string("desiredStatus");
    input.one_of("desiredStatus", desired, {"RUNNING", "PENDING", "STOPPED"});
    input.one_of("launchType", input.string("launchType"), {"EXTERNAL"});
    if (input.string("serviceName"))
        input.fail(invalid_parameter("serviceName: berth has no services"));
    filter.desired_status = desired.value_or("RUNNING"); // ECS's default
    const auto instance = input.string("containerInstance");
    if (input.error())
        return fail(*input.error());
    if (c.engine == nullptr)
        return fail(no_engine());
    auto tasks = c.engine->list_tasks(filter);
    if (!tasks)
        return fail(engine_failure(tasks.error(), "list tasks"));
    std::vector<std::string> arns;
    for (const auto& t : *tasks)
        if (!instance || t.container_instance_arn == *instance ||
            t.container_instance_arn.ends_with("/" + *instance))
            arns.push_back(t.arn);
    const auto page = paginate(input, arns.size());
    if (input.error())
        return fail(*input.error());
    json body = {
        {"taskArns", json(std::vector<std::string>(arns.begin() + static_cast<long>(page.begin),
                                                   arns.begin() + static_cast<long>(page.end)))}};
    if (!page.next_token.empty())
        body["nextToken"] = page.next_token;
    return ok(std::move(body));
}

} // namespace berth::api
