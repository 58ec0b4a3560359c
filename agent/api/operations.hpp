// agent/api/operations.hpp — the ECS operations berth serves, one function each, grouped by
// resource in ops_*.cpp. Each reads its input with Input, returns a Reply. Internal.
#pragma once
#include <optional>
#include <string>
#include <nlohmann/json.hpp>
#include "agent/api/context.hpp"
#include "agent/api/input.hpp"

namespace berth::api {

// ops_task_definitions.cpp
Reply register_task_definition(Context& c, const nlohmann::json& in);
Reply deregister_task_definition(Context& c, const nlohmann::json& in);
Reply describe_task_definition(Context& c, const nlohmann::json& in);
Reply list_task_definitions(Context& c, const nlohmann::json& in);
Reply list_task_definition_families(Context& c, const nlohmann::json& in);
// ops_clusters.cpp
Reply describe_clusters(Context& c, const nlohmann::json& in);
Reply list_clusters(Context& c, const nlohmann::json& in);
Reply describe_container_instances(Context& c, const nlohmann::json& in);
Reply list_container_instances(Context& c, const nlohmann::json& in);
// ops_tags.cpp
Reply tag_resource(Context& c, const nlohmann::json& in);
Reply untag_resource(Context& c, const nlohmann::json& in);
Reply list_tags_for_resource(Context& c, const nlohmann::json& in);
// ops_tasks.cpp
Reply run_task(Context& c, const nlohmann::json& in);
Reply start_task(Context& c, const nlohmann::json& in);
Reply stop_task(Context& c, const nlohmann::json& in);
Reply describe_tasks(Context& c, const nlohmann::json& in);
Reply list_tasks(Context& c, const nlohmann::json& in);

// validate_task_definition.cpp: agent/taskdef's parser on the request (ClientException naming
// the field). nullopt when acceptable.
std::optional<ApiError> validate_task_definition(const nlohmann::json& definition);

// Shared by the ops files: the "cluster" input (default: the node's cluster). Sets
// ClusterNotFoundException on input when it names another cluster.
std::string cluster_input(Context& c, Input& input);
// A store error as ServerException, with what we were doing.
ApiError store_failure(const Error& error, std::string_view doing);

} // namespace berth::api
