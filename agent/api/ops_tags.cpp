// agent/api/ops_tags.cpp — TagResource, UntagResource, ListTagsForResource on task definitions,
// the cluster, the container instance and tasks. A tag on a resource that does not exist is
// refused, so no tag outlives (or predates) what it describes.
#include "agent/api/arns.hpp"
#include "agent/api/operations.hpp"
#include "agent/api/shapes.hpp"

namespace berth::api {
namespace {

using nlohmann::json;

Result<bool> resource_exists(Context& c, const std::string& arn, const std::string& resource)
{
    if (resource.rfind("task-definition/", 0) == 0) {
        const auto ref = parse_task_definition_ref(arn);
        if (!ref || ref->revision == 0)
            return false;
        auto def = c.store.task_definition(ref->family, ref->revision);
        if (!def)
            return std::move(def).error();
        return def->has_value();
    }
    if (resource.rfind("cluster/", 0) == 0)
        return resource == cat("cluster/", c.options.cluster);
    if (resource.rfind("container-instance/", 0) == 0) {
        auto instances = c.store.container_instances(c.options.cluster);
        if (!instances)
            return std::move(instances).error();
        return !instances->empty() && instances->front().arn == arn;
    }
    if (resource.rfind("task/", 0) == 0 && c.engine != nullptr) {
        auto tasks = c.engine->describe_tasks(c.options.cluster, {arn});
        if (!tasks)
            return std::move(tasks).error();
        return !tasks->empty();
    }
    return false;
}

// The resourceArn input, checked to name an existing resource; empty with input failed if not.
std::string resource_input(Context& c, Input& input)
{
    auto arn = input.required_string("resourceArn");
    if (input.error())
        return {};
    const auto resource = arn_resource(c.options, arn);
    if (!resource) {
        input.fail(invalid_parameter(cat("resourceArn: ", quoted(arn), " is not an ECS ARN of ",
                                         c.options.region, " and account ", c.options.account_id)));
        return {};
    }
    auto exists = resource_exists(c, arn, *resource);
    if (!exists)
        input.fail(store_failure(exists.error(), "look up resource"));
    else if (!*exists)
        input.fail(invalid_parameter(
            cat("resourceArn: the specified resource ", quoted(arn), " is not found")));
    return arn;
}

} // namespace

Reply tag_resource(Context& c, const json& in)
{
    Input input(in);
    const auto arn = resource_input(c, input);
    const auto tags = input.tags("tags");
    if (!input.error() && tags.empty())
        input.fail(invalid_parameter("tags: must not be empty"));
    if (input.error())
        return fail(*input.error());
    if (auto r = c.store.tag(arn, tags); !r)
        return fail(store_failure(r.error(), "store tags"));
    return ok(json::object());
}

Reply untag_resource(Context& c, const json& in)
{
    Input input(in);
    const auto arn = resource_input(c, input);
    const auto keys = input.strings("tagKeys", true);
    if (input.error())
        return fail(*input.error());
    if (auto r = c.store.untag(arn, keys); !r)
        return fail(store_failure(r.error(), "remove tags"));
    return ok(json::object());
}

Reply list_tags_for_resource(Context& c, const json& in)
{
    Input input(in);
    const auto arn = resource_input(c, input);
    if (input.error())
        return fail(*input.error());
    auto tags = c.store.tags(arn);
    if (!tags)
        return fail(store_failure(tags.error(), "read tags"));
    return ok({{"tags", tags_json(*tags)}});
}

} // namespace berth::api
