// agent/api/get_server.hpp — the server behind the two small unauthenticated GET-only endpoints
// (introspection, task metadata): a listener, http_listen.hpp's capped accept loop and GET
// sessions, on an io thread of its own. Each endpoint supplies only its answer function. Internal.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include "base/result.hpp"

namespace berth::api {

struct GetReply {
    unsigned status = 200;
    std::string body; // JSON
};

struct GetServerOptions {
    std::string address;
    std::uint16_t port = 0; // 0: any free port (tests)
    std::size_t max_connections = 64;
    std::chrono::milliseconds header_timeout{10'000}; // also the keep-alive idle limit
    std::chrono::milliseconds write_timeout{10'000};
    std::string what;              // names the server in errors ("task metadata")
    std::string read_only_message; // the 405's JSON body
};

class GetServer {
public:
    using Answer = std::function<GetReply(std::string_view target)>;
    // Opens the listener (errors name `what`: bad address, port taken) and starts the io thread.
    // answer runs on that thread, one request at a time; what it uses must outlive stop().
    static Result<std::unique_ptr<GetServer>> start(GetServerOptions options, Answer answer);
    GetServer(const GetServer&) = delete;
    GetServer& operator=(const GetServer&) = delete;
    ~GetServer(); // stop()
    std::uint16_t port() const;
    // Closes the listener and every connection, joins the io thread. Idempotent.
    void stop();

    struct Impl;

private:
    explicit GetServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace berth::api
