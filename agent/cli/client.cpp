// agent/cli/client.cpp — HTTP over the berthd socket with Boost.Beast: async operations under one
// deadline on a private io_context, so a daemon that accepts but never answers cannot hang the
// CLI forever.
#include "agent/cli/client.hpp"
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace berth::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Local = asio::local::stream_protocol;

constexpr std::string_view target_prefix = "AmazonEC2ContainerServiceV20141113.";
constexpr std::size_t reply_limit = std::size_t{64} * 1024 * 1024;

Error connect_error(const std::string& path, const beast::error_code& ec)
{
    const int code = ec.value();
    if (code == ENOENT)
        return Error::with_code(code, "berthd is not running (no socket at ", berth::quoted(path),
                                ")");
    if (code == ECONNREFUSED)
        return Error::with_code(code, "berthd is not running (nothing listens on ",
                                berth::quoted(path), ")");
    if (code == EACCES || code == EPERM)
        return Error::with_code(code, "cannot reach berthd at ", berth::quoted(path),
                                ": the berth CLI's task commands need root");
    return Error::with_code(code, "connect to berthd at ", berth::quoted(path));
}

// The service's error body {"__type": ..., "message": ...} as an Error.
Error api_error(unsigned status, const std::string& body)
{
    const auto j = nlohmann::json::parse(body, nullptr, false);
    std::string type = "HTTP " + std::to_string(status);
    std::string message = body;
    if (j.is_object()) {
        if (auto t = j.find("__type"); t != j.end() && t->is_string())
            type = t->get<std::string>();
        if (auto m = j.find("message"); m != j.end() && m->is_string())
            message = m->get<std::string>();
    }
    if (status >= 400 && status < 500)
        return Error::invalid(type, ": ", message);
    return Error::with_code(0, type, ": ", message);
}

} // namespace

Result<nlohmann::json> AgentClient::call(std::string_view operation,
                                         const nlohmann::json& input) const
{
    asio::io_context io;
    beast::basic_stream<Local> stream(io);
    http::request<http::string_body> request{http::verb::post, "/", 11};
    request.set(http::field::host, "berthd");
    request.set(http::field::content_type, "application/x-amz-json-1.1");
    request.set("X-Amz-Target", cat(target_prefix, operation));
    request.body() = input.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    request.prepare_payload();
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(reply_limit);
    std::optional<Error> failure;
    stream.expires_after(timeout_);
    stream.async_connect(Local::endpoint(socket_path_), [&](beast::error_code ec) {
        if (ec) {
            failure = connect_error(socket_path_, ec);
            return;
        }
        http::async_write(stream, request, [&](beast::error_code wec, std::size_t) {
            if (wec) {
                failure = Error::with_code(wec.value(), "send to berthd: ", wec.message());
                return;
            }
            http::async_read(stream, buffer, parser, [&](beast::error_code rec, std::size_t) {
                if (rec == beast::error::timeout)
                    failure = Error::with_code(ETIMEDOUT, "berthd did not answer ", operation,
                                               " within ", timeout_.count(), " ms");
                else if (rec)
                    failure = Error::with_code(rec.value(), "read berthd's answer to ", operation,
                                               ": ", rec.message());
            });
        });
    });
    io.run();
    if (failure)
        return std::move(*failure);
    const auto& response = parser.get();
    const unsigned status = response.result_int();
    if (status != 200)
        return api_error(status, response.body());
    auto reply = nlohmann::json::parse(response.body(), nullptr, false);
    if (!reply.is_object())
        return Error::with_code(EPROTO, "berthd's answer to ", operation, " is not a JSON object");
    return reply;
}

} // namespace berth::cli
