// agent/api/shapes.hpp — store records as the real service shows them: ARNs, epoch-second
// timestamps (left out while 0, as ECS leaves out fields it has no value for), launchType
// EXTERNAL, the defaults ECS fills into a registered definition. Internal.
#pragma once
#include <string>
#include <vector>
#include <nlohmann/json.hpp>
#include "agent/api/api.hpp"

namespace berth::api {

nlohmann::json tags_json(const std::vector<store::Tag>& tags);
nlohmann::json failure_json(const std::string& arn, const std::string& reason,
                            const std::string& detail = {});
// The stored body plus what the service adds: ARN, revision, status, registeredAt, defaults.
nlohmann::json task_definition_json(const Options& options, const store::TaskDefinition& def);
// HEALTHY, UNHEALTHY or UNKNOWN, from the essential containers that have a healthCheck.
std::string task_health_status(const store::Task& task);
nlohmann::json task_json(const Options& options, const store::Task& task);

} // namespace berth::api
