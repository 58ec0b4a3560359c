// agent/api/operations.cpp — the operation table (X-Amz-Target suffix -> function) and what the
// ops files share.
#include <array>
#include <utility>
#include "agent/api/arns.hpp"
#include "agent/api/operations.hpp"

namespace berth::api {
namespace {

using Operation = Reply (*)(Context&, const nlohmann::json&);

constexpr std::array<std::pair<std::string_view, Operation>, 17> operations = {{
    {"RegisterTaskDefinition", register_task_definition},
    {"DeregisterTaskDefinition", deregister_task_definition},
    {"DescribeTaskDefinition", describe_task_definition},
    {"ListTaskDefinitions", list_task_definitions},
    {"ListTaskDefinitionFamilies", list_task_definition_families},
    {"DescribeClusters", describe_clusters},
    {"ListClusters", list_clusters},
    {"DescribeContainerInstances", describe_container_instances},
    {"ListContainerInstances", list_container_instances},
    {"TagResource", tag_resource},
    {"UntagResource", untag_resource},
    {"ListTagsForResource", list_tags_for_resource},
    {"RunTask", run_task},
    {"StartTask", start_task},
    {"StopTask", stop_task},
    {"DescribeTasks", describe_tasks},
    {"ListTasks", list_tasks},
}};

} // namespace

Reply run_operation(Context& context, std::string_view operation, const nlohmann::json& input)
{
    for (const auto& [name, function] : operations)
        if (name == operation)
            return function(context, input);
    return fail({400, "UnknownOperationException",
                 cat("operation ", quoted(operation), " is not supported by berth")});
}

std::string cluster_input(Context& c, Input& input)
{
    const auto text = input.string("cluster").value_or("default");
    const auto name = parse_cluster(text);
    if (!input.error() && (!name || *name != c.options.cluster))
        input.fail({400, "ClusterNotFoundException",
                    cat("Cluster not found: ", quoted(text), " (this node serves cluster ",
                        quoted(c.options.cluster), ")")});
    return c.options.cluster;
}

ApiError store_failure(const Error& error, std::string_view doing)
{
    return server_exception(cat(doing, ": ", error.message()));
}

} // namespace berth::api
