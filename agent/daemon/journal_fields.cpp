// agent/daemon/journal_fields.cpp — logDriver journald's runtime options (journal_fields.hpp).
#include "agent/daemon/journal_fields.hpp"
#include "base/strings.hpp"

namespace berth::daemon {

bool logs_to_journald(const taskdef::TaskDefinition& def, std::string_view name)
{
    const auto* c = def.find(name);
    return c != nullptr && c->log_configuration &&
           c->log_configuration->driver == taskdef::LogDriver::Journald;
}

Result<void> use_journald(runtime::CreateOptions& co, const taskdef::TaskDefinition& def,
                          std::string_view name, const runtime::Spec& spec,
                          const JournaldTask& task)
{
    const auto* c = def.find(name);
    if (c == nullptr)
        return Error::invalid("container ", quoted(name), " is not in the task definition");
    taskdef::JournaldContext context;
    context.task_arn = task.task_arn;
    context.cluster = task.cluster;
    context.runtime_id = co.id;
    // ".../task-definition/<family>:<revision>"
    const auto slash = task.task_definition_arn.rfind('/');
    const auto colon = task.task_definition_arn.rfind(':');
    if (slash != std::string::npos && colon != std::string::npos && colon > slash) {
        context.family = task.task_definition_arn.substr(slash + 1, colon - slash - 1);
        context.revision = task.task_definition_arn.substr(colon + 1);
    }
    if (spec.process)
        context.env = spec.process->env;
    // The labels a Docker-run ECS container has: the image's and dockerLabels (the spec's
    // annotations), and the ECS agent's own (as the task metadata endpoint lists them).
    context.labels = spec.annotations;
    context.labels["com.amazonaws.ecs.cluster"] = task.cluster;
    context.labels["com.amazonaws.ecs.container-name"] = c->name;
    context.labels["com.amazonaws.ecs.task-arn"] = task.task_arn;
    context.labels["com.amazonaws.ecs.task-definition-family"] = context.family;
    context.labels["com.amazonaws.ecs.task-definition-version"] = context.revision;
    auto fields = taskdef::journald_fields(*c, context);
    if (!fields)
        return std::move(fields).error();
    co.log_path.clear();
    co.log_journald = true;
    co.log_fields = std::move(*fields);
    return {};
}

std::string journald_marker_path(const std::string& log_path)
{
    return log_path + ".journald";
}

} // namespace berth::daemon
