// agent/api/ops_task_definitions.cpp — RegisterTaskDefinition, DeregisterTaskDefinition,
// DescribeTaskDefinition, ListTaskDefinitions, ListTaskDefinitionFamilies.
#include <algorithm>
#include "agent/api/arns.hpp"
#include "agent/api/operations.hpp"
#include "agent/api/shapes.hpp"

namespace berth::api {
namespace {

using nlohmann::json;

// The task definition a reference names, or the error ECS answers when there is none.
Result<store::TaskDefinition> find_definition(Context& c, const std::string& text, ApiError& error)
{
    const auto ref = parse_task_definition_ref(text);
    if (!ref) {
        error = client_exception(cat("taskDefinition: ", quoted(text),
                                     " is not a family, family:revision or task definition ARN"));
        return Error::invalid("bad reference");
    }
    auto found = c.store.task_definition(ref->family, ref->revision);
    if (!found) {
        error = store_failure(found.error(), "read task definition");
        return std::move(found).error();
    }
    if (!*found) {
        error = client_exception(
            cat("Unable to describe task definition: ", quoted(text),
                ref->revision == 0 ? " has no ACTIVE revision" : " does not exist"));
        return Error::invalid("missing");
    }
    return std::move(**found);
}

Reply with_tags(Context& c, json body, const std::string& arn, bool include)
{
    if (include) {
        auto tags = c.store.tags(arn);
        if (!tags)
            return fail(store_failure(tags.error(), "read tags"));
        body["tags"] = tags_json(*tags);
    }
    return ok(std::move(body));
}

bool includes_tags(Input& input)
{
    const auto include = input.strings("include");
    for (const auto& item : include)
        input.one_of("include[]", item, {"TAGS"});
    return std::find(include.begin(), include.end(), "TAGS") != include.end();
}

} // namespace

Reply register_task_definition(Context& c, const json& in)
{
    Input input(in);
    const auto tags = input.tags("tags");
    if (input.error())
        return fail(*input.error());
    json definition = in;
    definition.erase("tags");
    if (auto bad = validate_task_definition(definition))
        return fail(*bad);
    const auto family = definition["family"].get<std::string>();
    // Written before it is acknowledged: a crash after this point leaves the revision, and the
    // client that saw no reply re-registers (ECS revisions are not idempotent either).
    auto def = c.store.register_task_definition(
        family, definition.dump(-1, ' ', false, json::error_handler_t::replace), c.now);
    if (!def)
        return fail(store_failure(def.error(), "store task definition"));
    const auto arn = task_definition_arn(c.options, def->family, def->revision);
    if (!tags.empty())
        if (auto r = c.store.tag(arn, tags); !r)
            return fail(store_failure(r.error(), "store tags"));
    json body = {{"taskDefinition", task_definition_json(c.options, *def)}};
    return with_tags(c, std::move(body), arn, !tags.empty());
}

Reply deregister_task_definition(Context& c, const json& in)
{
    Input input(in);
    const auto text = input.required_string("taskDefinition");
    if (input.error())
        return fail(*input.error());
    const auto ref = parse_task_definition_ref(text);
    if (!ref || ref->revision == 0)
        return fail(client_exception(cat("taskDefinition: ", quoted(text),
                                         " must name a revision (family:revision or ARN)")));
    auto def = c.store.deregister_task_definition(ref->family, ref->revision, c.now);
    if (!def)
        return fail(store_failure(def.error(), "deregister task definition"));
    if (!*def)
        return fail(
            client_exception(cat("The specified task definition does not exist: ", quoted(text))));
    return ok({{"taskDefinition", task_definition_json(c.options, **def)}});
}

Reply describe_task_definition(Context& c, const json& in)
{
    Input input(in);
    const auto text = input.required_string("taskDefinition");
    const bool tags = includes_tags(input);
    if (input.error())
        return fail(*input.error());
    ApiError error;
    auto def = find_definition(c, text, error);
    if (!def)
        return fail(error);
    return with_tags(c, {{"taskDefinition", task_definition_json(c.options, *def)}},
                     task_definition_arn(c.options, def->family, def->revision), tags);
}

Reply list_task_definitions(Context& c, const json& in)
{
    Input input(in);
    const auto family = input.string("familyPrefix"); // ECS: the full family name
    const auto status = input.string("status");
    const auto sort = input.string("sort");
    input.one_of("status", status, {"ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS"});
    input.one_of("sort", sort, {"ASC", "DESC"});
    if (input.error())
        return fail(*input.error());
    auto defs = c.store.task_definitions(family.value_or(""), status.value_or("ACTIVE"));
    if (!defs)
        return fail(store_failure(defs.error(), "list task definitions"));
    std::vector<std::string> arns;
    for (const auto& def : *defs)
        if (!family || def.family == *family)
            arns.push_back(task_definition_arn(c.options, def.family, def.revision));
    if (sort.value_or("ASC") == "DESC")
        std::reverse(arns.begin(), arns.end());
    const auto page = paginate(input, arns.size());
    if (input.error())
        return fail(*input.error());
    json body = {{"taskDefinitionArns",
                  json(std::vector<std::string>(arns.begin() + static_cast<long>(page.begin),
                                                arns.begin() + static_cast<long>(page.end)))}};
    if (!page.next_token.empty())
        body["nextToken"] = page.next_token;
    return ok(std::move(body));
}

Reply list_task_definition_families(Context& c, const json& in)
{
    Input input(in);
    const auto prefix = input.string("familyPrefix");
    const auto status = input.string("status");
    input.one_of("status", status, {"ACTIVE", "INACTIVE", "ALL"});
    if (input.error())
        return fail(*input.error());
    const std::string wanted = status.value_or("ALL") == "ALL" ? "" : *status;
    auto families = c.store.families(prefix.value_or(""), wanted);
    if (!families)
        return fail(store_failure(families.error(), "list task definition families"));
    const auto page = paginate(input, families->size());
    if (input.error())
        return fail(*input.error());
    json body = {{"families",
                  json(std::vector<std::string>(families->begin() + static_cast<long>(page.begin),
                                                families->begin() + static_cast<long>(page.end)))}};
    if (!page.next_token.empty())
        body["nextToken"] = page.next_token;
    return ok(std::move(body));
}

} // namespace berth::api
