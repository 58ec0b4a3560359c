// agent/api/introspection.hpp — the introspection API's answers, independent of HTTP (the server
// in introspection.cpp feeds it; tests and the fuzz harness may call it directly). Internal.
#pragma once
#include <string>
#include <string_view>
#include "agent/api/api.hpp"
#include "agent/api/get_server.hpp"

namespace berth::api {

using IntrospectionResponse = GetReply;

// One GET of target ("/v1/tasks?taskarn=..."): /v1/metadata, /v1/tasks and its two queries.
IntrospectionResponse introspection_response(const NodeInfo& node, ControlPlane& engine,
                                             std::string_view target);
// %XX and '+' decoded; nullopt for a malformed escape.
std::optional<std::string> url_decode(std::string_view text);

} // namespace berth::api
