// agent/api/arns.hpp — ECS resource names: arn:aws:ecs:<region>:<account>:<type>/<id>, and the
// short forms the API accepts in their place (a family, "family:revision", a cluster name, a
// task id). Internal.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include "agent/api/api.hpp"

namespace berth::api {

std::string make_arn(const Options& options, std::string_view resource);
std::string task_definition_arn(const Options& options, std::string_view family, int revision);
std::string cluster_arn(const Options& options, std::string_view name);
std::string task_arn(const Options& options, std::string_view cluster, std::string_view id);
// 32 lowercase hex characters from the kernel's random source (the shape of ECS task ids).
std::string random_id();

// Family names: 1-255 of letters, digits, '-' and '_'.
bool valid_name(std::string_view name);

struct TaskDefinitionRef {
    std::string family;
    int revision = 0; // 0: none given (the latest ACTIVE revision)
};
// "family", "family:3" or a task-definition ARN; nullopt when it is none of those.
std::optional<TaskDefinitionRef> parse_task_definition_ref(std::string_view text);

// A cluster name or cluster ARN -> the name; nullopt when malformed.
std::optional<std::string> parse_cluster(std::string_view text);

// A task ARN (either ARN format) or id, in cluster -> the task ARN; nullopt when malformed.
std::optional<std::string> parse_task(const Options& options, std::string_view cluster,
                                      std::string_view text);

// The resource part of an ECS ARN of this region and account ("cluster/default"); nullopt else.
std::optional<std::string> arn_resource(const Options& options, std::string_view arn);

} // namespace berth::api
