// agent/api/ops_clusters.cpp — DescribeClusters, ListClusters, DescribeContainerInstances,
// ListContainerInstances. A standalone node is one cluster with one container instance: itself.
#include <unistd.h>
#include <algorithm>
#include "agent/api/arns.hpp"
#include "agent/api/operations.hpp"
#include "agent/api/shapes.hpp"

namespace berth::api {
namespace {

using nlohmann::json;

struct Counts {
    std::int64_t running = 0, pending = 0, cpu = 0, memory = 0;
};

// Tasks not yet STOPPED, from the engine (none without one): running/pending counts and the
// task-level cpu/memory they hold.
Result<Counts> task_counts(Context& c)
{
    Counts counts;
    if (c.engine == nullptr)
        return counts;
    auto tasks = c.engine->list_tasks(store::TaskFilter{c.options.cluster, "", "", ""});
    if (!tasks)
        return std::move(tasks).error();
    for (const auto& t : *tasks) {
        if (t.last_status == "STOPPED")
            continue;
        ++(t.last_status == "RUNNING" ? counts.running : counts.pending);
        counts.cpu += parse_int<std::int64_t>(t.cpu).value_or(0);
        counts.memory += parse_int<std::int64_t>(t.memory).value_or(0);
    }
    return counts;
}

json integer_resource(const char* name, std::int64_t value)
{
    return {{"name", name},
            {"type", "INTEGER"},
            {"integerValue", value},
            {"doubleValue", 0.0},
            {"longValue", 0}};
}

json resources(std::int64_t cpu, std::int64_t memory)
{
    // The ECS agent's default reserved ports, which berth's own ports mirror.
    const json ports = {"22", "2375", "2376", "51678", "51679", "51680"};
    return json::array(
        {integer_resource("CPU", cpu),
         integer_resource("MEMORY", memory),
         {{"name", "PORTS"}, {"type", "STRINGSET"}, {"stringSetValue", ports}},
         {{"name", "PORTS_UDP"}, {"type", "STRINGSET"}, {"stringSetValue", json::array()}}});
}

json instance_json(const store::ContainerInstance& instance, const Counts& counts)
{
    const std::int64_t cpu = sysconf(_SC_NPROCESSORS_ONLN) * 1024;
    const std::int64_t memory =
        sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) / (std::int64_t{1} << 20);
    return {{"containerInstanceArn", instance.arn},
            {"status", "ACTIVE"},
            {"agentConnected", true},
            {"runningTasksCount", counts.running},
            {"pendingTasksCount", counts.pending},
            {"registeredAt", instance.registered_at},
            {"version", 1},
            {"versionInfo", {{"agentVersion", "berth-0.1.0"}}},
            {"registeredResources", resources(cpu, memory)},
            {"remainingResources", resources(std::max<std::int64_t>(0, cpu - counts.cpu),
                                             std::max<std::int64_t>(0, memory - counts.memory))},
            {"attributes", json::array({{{"name", "ecs.capability.external"}},
                                        {{"name", "ecs.os-type"}, {"value", "linux"}},
                                        {{"name", "ecs.os-family"}, {"value", "LINUX"}}})},
            {"tags", json::array()}};
}

Result<store::ContainerInstance> this_instance(Context& c)
{
    auto instances = c.store.container_instances(c.options.cluster);
    if (!instances)
        return std::move(instances).error();
    if (instances->empty())
        return Error::with_code(ENOENT, "this node has no container instance record");
    return instances->front();
}

} // namespace

Reply describe_clusters(Context& c, const json& in)
{
    Input input(in);
    auto names = input.strings("clusters");
    const auto include = input.strings("include");
    if (input.error())
        return fail(*input.error());
    if (names.empty())
        names.emplace_back("default");
    auto counts = task_counts(c);
    if (!counts)
        return fail(store_failure(counts.error(), "count tasks"));
    json body = {{"clusters", json::array()}, {"failures", json::array()}};
    for (const auto& text : names) {
        const auto name = parse_cluster(text);
        if (!name || *name != c.options.cluster) {
            body["failures"].push_back(
                failure_json(name ? cluster_arn(c.options, *name) : text, "MISSING"));
            continue;
        }
        json cluster = {
            {"clusterArn", cluster_arn(c.options, *name)},
            {"clusterName", *name},
            {"status", "ACTIVE"},
            {"registeredContainerInstancesCount", 1},
            {"runningTasksCount", counts->running},
            {"pendingTasksCount", counts->pending},
            {"activeServicesCount", 0},
            {"statistics", json::array()},
            {"settings", json::array({{{"name", "containerInsights"}, {"value", "disabled"}}})},
            {"capacityProviders", json::array()},
            {"defaultCapacityProviderStrategy", json::array()}};
        if (std::find(include.begin(), include.end(), "TAGS") != include.end()) {
            auto tags = c.store.tags(cluster_arn(c.options, *name));
            if (!tags)
                return fail(store_failure(tags.error(), "read tags"));
            cluster["tags"] = tags_json(*tags);
        }
        body["clusters"].push_back(std::move(cluster));
    }
    return ok(std::move(body));
}

Reply list_clusters(Context& c, const json& in)
{
    Input input(in);
    const auto page = paginate(input, 1);
    if (input.error())
        return fail(*input.error());
    json arns = json::array();
    if (page.begin < page.end)
        arns.push_back(cluster_arn(c.options, c.options.cluster));
    return ok({{"clusterArns", arns}});
}

Reply describe_container_instances(Context& c, const json& in)
{
    Input input(in);
    cluster_input(c, input);
    const auto wanted = input.strings("containerInstances", true);
    if (input.error())
        return fail(*input.error());
    auto instance = this_instance(c);
    if (!instance)
        return fail(store_failure(instance.error(), "read container instance"));
    auto counts = task_counts(c);
    if (!counts)
        return fail(store_failure(counts.error(), "count tasks"));
    const std::string id = instance->arn.substr(instance->arn.rfind('/') + 1);
    json body = {{"containerInstances", json::array()}, {"failures", json::array()}};
    for (const auto& text : wanted) {
        if (text == instance->arn || text == id)
            body["containerInstances"].push_back(instance_json(*instance, *counts));
        else
            body["failures"].push_back(failure_json(text, "MISSING"));
    }
    return ok(std::move(body));
}

Reply list_container_instances(Context& c, const json& in)
{
    Input input(in);
    cluster_input(c, input);
    const auto status = input.string("status");
    input.one_of("status", status,
                 {"ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED"});
    if (input.string("filter"))
        input.fail(invalid_parameter("filter: the cluster query language is not supported by "
                                     "berth (a standalone node has one container instance)"));
    const auto page = paginate(input, 1);
    if (input.error())
        return fail(*input.error());
    auto instance = this_instance(c);
    if (!instance)
        return fail(store_failure(instance.error(), "read container instance"));
    json arns = json::array();
    if (status.value_or("ACTIVE") == "ACTIVE" && page.begin < page.end)
        arns.push_back(instance->arn);
    return ok({{"containerInstanceArns", arns}});
}

} // namespace berth::api
