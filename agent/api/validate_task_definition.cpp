// agent/api/validate_task_definition.cpp — TEMPORARY, to be replaced at merge by agent/taskdef's
// parse_task_definition() (the full ECS model, which refuses unsupported fields by name). Until
// then RegisterTaskDefinition checks only the minimum: family, and containerDefinitions non-empty,
// each with a unique valid name and an image.
#include <set>
#include "agent/api/arns.hpp"
#include "agent/api/operations.hpp"

namespace berth::api {

std::optional<ApiError> validate_task_definition(const nlohmann::json& definition)
{
    const auto family = definition.find("family");
    if (family == definition.end() || !family->is_string())
        return client_exception("family: is required (a string)");
    if (!valid_name(family->get<std::string>()))
        return client_exception("family: up to 255 letters (uppercase and lowercase), numbers, "
                                "hyphens, and underscores are allowed");
    const auto containers = definition.find("containerDefinitions");
    if (containers == definition.end() || !containers->is_array() || containers->empty())
        return client_exception("containerDefinitions: must be a non-empty list");
    std::set<std::string> names;
    for (std::size_t i = 0; i < containers->size(); ++i) {
        const auto& container = (*containers)[i];
        const std::string where = cat("containerDefinitions[", i, "]");
        if (!container.is_object())
            return client_exception(cat(where, ": must be an object"));
        const auto name = container.find("name");
        if (name == container.end() || !name->is_string() || !valid_name(name->get<std::string>()))
            return client_exception(cat(where, ".name: is required: up to 255 letters, numbers, "
                                               "hyphens, and underscores"));
        if (!names.insert(name->get<std::string>()).second)
            return client_exception(cat(where, ".name: ", quoted(name->get<std::string>()),
                                        " is used by another container"));
        const auto image = container.find("image");
        if (image == container.end() || !image->is_string() || image->get<std::string>().empty())
            return client_exception(cat(where, ".image: should not be null or empty"));
    }
    return std::nullopt;
}

} // namespace berth::api
