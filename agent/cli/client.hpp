// agent/cli/client.hpp — the CLI's side of berthd's unix socket: the ECS JSON 1.1 API (POST /,
// X-Amz-Target) over HTTP/1.1 on AF_UNIX, one connection per call, no SigV4 (the daemon checks
// the peer's uid instead). Errors say what to do: no socket means berthd is not running.
#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <nlohmann/json.hpp>
#include "base/result.hpp"

namespace berth::cli {

class AgentClient {
public:
    explicit AgentClient(std::string socket_path,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30))
        : socket_path_(std::move(socket_path)), timeout_(timeout)
    {
    }
    // One operation ("ListTasks"). The reply's JSON object, or an Error: a connection failure
    // (ENOENT/ECONNREFUSED: "berthd is not running (...)", EACCES: needs root, ETIMEDOUT), or
    // the service's error as "<__type>: <message>" (bad_input set for 4xx answers).
    Result<nlohmann::json> call(std::string_view operation, const nlohmann::json& input) const;
    const std::string& socket_path() const { return socket_path_; }

private:
    std::string socket_path_;
    std::chrono::milliseconds timeout_;
};

} // namespace berth::cli
