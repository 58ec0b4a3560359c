// agent/api/http_listen.hpp — what berth's three HTTP servers (the ECS API, introspection, task
// metadata) share: opening a TCP listener with errors that name the server, an accept loop that
// caps open sessions (more are closed at accept, so a flood of idle clients cannot take every
// fd) and pauses after an accept error, and GetSession, the GET-only session of the two small
// unauthenticated servers. Internal to agent/api; Boost.Beast on the caller's io_context.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include "base/result.hpp"
#include "base/strings.hpp"

namespace berth::api::http_server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Tcp = asio::ip::tcp;

// Binds and listens at address:port (SO_REUSEADDR); `what` names the server in errors.
inline Result<void> open_listener(Tcp::acceptor& acceptor, const std::string& address,
                                  std::uint16_t port, std::string_view what)
{
    beast::error_code ec;
    const auto ip = asio::ip::make_address(address, ec);
    if (ec)
        return Error::invalid(what, " address ", quoted(address), ": not an IP address");
    const Tcp::endpoint endpoint(ip, port);
    if (acceptor.open(endpoint.protocol(), ec); ec)
        return Error::with_code(ec.value(), "open ", what, " socket");
    if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec)
        return Error::with_code(ec.value(), "set SO_REUSEADDR on ", what, " socket");
    if (acceptor.bind(endpoint, ec); ec)
        return Error::with_code(ec.value(), "bind ", what, " socket to ", address, ":", port);
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec)
        return Error::with_code(ec.value(), "listen on ", what, " socket");
    return {};
}

// Accepts forever on `from`; start(socket) makes and starts a session while fewer than `limit`
// are open (`open` is the count the sessions keep). All on the io thread. The acceptor, timer
// and counter outlive the loop (they belong to the server, which stops io before they go).
template <class Acceptor, class Start>
void accept_loop(Acceptor& from, asio::steady_timer& pause, const std::size_t& open,
                 std::size_t limit, Start start)
{
    using Socket = typename Acceptor::protocol_type::socket;
    from.async_accept([&from, &pause, &open, limit, start](beast::error_code ec, Socket socket) {
        if (ec == asio::error::operation_aborted)
            return;
        if (!ec) {
            if (open < limit)
                start(std::move(socket));
            // else: the socket closes as it leaves scope
            accept_loop(from, pause, open, limit, start);
            return;
        }
        // EMFILE and friends: the pending connection stays queued and the next accept would
        // fail at once, spinning this thread; wait a little for fds to come back, then retry.
        pause.expires_after(std::chrono::milliseconds(100));
        pause.async_wait([&from, &pause, &open, limit, start](beast::error_code wait_ec) {
            if (wait_ec != asio::error::operation_aborted)
                accept_loop(from, pause, open, limit, start);
        });
    });
}

struct Reply {
    unsigned status = 200;
    std::string body; // JSON
};

struct GetLimits {
    std::uint32_t header_limit = 8 * 1024;
    std::chrono::milliseconds header_timeout{10'000}; // also the keep-alive idle limit
    std::chrono::milliseconds write_timeout{10'000};
    std::string_view read_only_message; // the 405's JSON body
};

// One connection of a GET-only server: no body, header and write timeouts, keep-alive as the
// request asks. answer(target) gives each reply; it runs on the io thread.
template <class Answer>
class GetSession : public std::enable_shared_from_this<GetSession<Answer>> {
public:
    GetSession(Tcp::socket socket, std::size_t& open, const GetLimits& limits, Answer answer)
        : stream_(std::move(socket)), open_(open), limits_(limits), answer_(std::move(answer))
    {
        ++open_;
    }
    GetSession(const GetSession&) = delete;
    GetSession& operator=(const GetSession&) = delete;
    ~GetSession() { --open_; }
    void start() { read(); }

private:
    void read()
    {
        parser_.emplace();
        parser_->header_limit(limits_.header_limit);
        parser_->body_limit(0); // GET: no body
        stream_.expires_after(limits_.header_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             self->on_read(ec);
                         });
    }

    void on_read(beast::error_code ec)
    {
        if (ec == http::error::body_limit)
            return write({413, R"({"error":"these requests have no body"})"}, false);
        if (ec == http::error::header_limit)
            return write({431, R"({"error":"request headers too large"})"}, false);
        if (ec)
            return close(); // timeout, end of stream, garbage: nothing worth answering
        const auto& request = parser_->get();
        if (request.method() != http::verb::get)
            return write({405, std::string(limits_.read_only_message)}, false);
        const auto target = request.target();
        write(answer_(std::string_view(target.data(), target.size())), request.keep_alive());
    }

    void write(const Reply& reply, bool keep_alive)
    {
        response_ = {};
        response_.version(11);
        response_.result(reply.status);
        response_.set(http::field::content_type, "application/json");
        response_.set(http::field::server, "berth");
        response_.body() = reply.body;
        response_.keep_alive(keep_alive);
        response_.prepare_payload();
        stream_.expires_after(limits_.write_timeout);
        http::async_write(
            stream_, response_,
            [self = this->shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                if (ec || !keep_alive)
                    return self->close();
                self->read();
            });
    }

    void close()
    {
        beast::error_code ignored;
        stream_.socket().shutdown(Tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    http::response<http::string_body> response_;
    std::size_t& open_;
    const GetLimits& limits_; // the server's, which outlives its sessions
    Answer answer_;
};

} // namespace berth::api::http_server
