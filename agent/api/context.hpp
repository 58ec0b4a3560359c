// agent/api/context.hpp — what every operation sees, and the HTTP-independent request handler
// (server.cpp feeds it from Boost.Beast; the fuzz harness and unit tests call it directly).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <nlohmann/json.hpp>
#include "agent/api/api.hpp"
#include "agent/api/errors.hpp"
#include "agent/api/sigv4.hpp"

namespace berth::api {

struct Context {
    const Options& options;
    store::Store& store;
    ControlPlane* engine; // null: task operations are refused
    std::int64_t now;     // epoch seconds, taken once per request
};

struct HttpResponse {
    unsigned status = 200;
    std::string body;
    std::string content_type = "application/x-amz-json-1.1";
};

// Authenticates, routes and runs one request. Never throws. peer_authenticated: the transport
// already vouched for the peer (the unix socket's SO_PEERCRED check), so SigV4 is not asked for.
HttpResponse handle_request(Context& context, const sigv4::Request& request,
                            std::chrono::system_clock::time_point now,
                            bool peer_authenticated = false);
// The error response shape: {"__type": ..., "message": ...}.
HttpResponse error_response(const ApiError& error);

// One operation by its X-Amz-Target suffix; nullopt-like error for unknown ones.
Reply run_operation(Context& context, std::string_view operation, const nlohmann::json& input);

} // namespace berth::api
