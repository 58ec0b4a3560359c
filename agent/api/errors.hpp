// agent/api/errors.hpp — the ECS error shapes: an AWS JSON 1.1 error is an HTTP 4xx/5xx whose
// body is {"__type": "<ErrorType>", "message": "..."} (botocore reads __type). Internal.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <nlohmann/json.hpp>

namespace berth::api {

struct ApiError {
    unsigned status = 400;
    std::string type;
    std::string message;
};

inline ApiError client_exception(std::string message)
{
    return {400, "ClientException", std::move(message)};
}
inline ApiError invalid_parameter(std::string message)
{
    return {400, "InvalidParameterException", std::move(message)};
}
// ECS's answer to a clientToken reused with a different request.
inline ApiError conflict_exception(std::string message)
{
    return {400, "ConflictException", std::move(message)};
}
inline ApiError server_exception(std::string message)
{
    return {500, "ServerException", std::move(message)};
}

// What an operation returns: a response body, or an error.
struct Reply {
    nlohmann::json body = nlohmann::json::object();
    std::optional<ApiError> error;
};
inline Reply ok(nlohmann::json body)
{
    return Reply{std::move(body), std::nullopt};
}
inline Reply fail(ApiError error)
{
    return Reply{nlohmann::json::object(), std::move(error)};
}

} // namespace berth::api
