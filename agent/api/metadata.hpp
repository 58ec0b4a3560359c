// agent/api/metadata.hpp — the task metadata endpoint's answers, independent of HTTP (the server
// in metadata.cpp feeds it; tests and the fuzz harness call it directly). Internal.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include "agent/api/api.hpp"
#include "agent/api/get_server.hpp"
#include "agent/api/metadata_stats.hpp"

namespace berth::api {

using MetadataResponse = GetReply;

struct MetadataSource {
    NodeInfo node;
    std::string key; // load_metadata_key()
    ControlPlane& engine;
    // The registered task definition (JSON text) of an ARN; nullopt when unknown.
    std::function<std::optional<std::string>(const std::string& arn)> definition;
    // Previous samples for precpu_stats (the server's, used on its io thread); null: none kept.
    StatsHistory* history = nullptr;
    // The tags of a task or of the container instance (ListTagsForResource's); an error is
    // shown in /taskWithTags' Errors, as the ECS agent shows a failed ListTagsForResource.
    std::function<Result<std::vector<store::Tag>>(const std::string& arn)> tags = nullptr;
};

// One GET of target ("/v4/<id>/task", ...).
MetadataResponse metadata_response(const MetadataSource& source, std::string_view target);

} // namespace berth::api
