// agent/api/ecs_json.hpp — what the introspection (v1) and task metadata (v3/v4) shapes share:
// the JSON text they answer, the pieces of ARNs they show, and a container's Ports as the ECS
// agent's handlers write them. Internal.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <nlohmann/json.hpp>

namespace berth::api {

// Compact JSON; invalid UTF-8 (from API clients' strings) replaced, never thrown.
std::string dump(const nlohmann::json& value);
// ".../task-definition/family:3" -> {"family", "3"} ({name, ""} without a revision).
std::pair<std::string, std::string> family_revision(const std::string& arn);
// What follows the ARN's last '/': a task's id.
std::string last_component(const std::string& arn);
// The store's networkBindings JSON text as [{ContainerPort, Protocol, HostPort, HostIp}];
// members of the wrong type are left out, unreadable text gives [].
nlohmann::json ports_json(const std::string& bindings_text);
// Epoch seconds as RFC 3339 UTC ("2023-11-14T22:13:20Z").
std::string rfc3339(std::int64_t epoch_seconds);

} // namespace berth::api
