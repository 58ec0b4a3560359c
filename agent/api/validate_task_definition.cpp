// agent/api/validate_task_definition.cpp — RegisterTaskDefinition's check: agent/taskdef's
// parser, the full ECS model (fields berth does not support refused by name, every bad value
// named by its JSON path, ECS's cross-field rules). The request is stored as sent; the engine
// parses it again when it runs a task, with the same parser.
#include "agent/api/operations.hpp"
#include "agent/taskdef/taskdef.hpp"

namespace berth::api {

std::optional<ApiError> validate_task_definition(const nlohmann::json& definition)
{
    auto parsed = taskdef::parse_task_definition(definition);
    if (!parsed)
        return client_exception(parsed.error().message());
    return std::nullopt;
}

} // namespace berth::api
