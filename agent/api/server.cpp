// agent/api/server.cpp — the HTTP/1.1 server: Boost.Beast on one io_context thread. Each
// connection reads a header under header_timeout, then its body under body_timeout, with the
// body capped at body_limit (413, then close); a slow or silent client only runs out its own
// timers, so it never stalls another connection. Keep-alive follows the request. The same
// sessions serve the CLI's unix socket, where the peer's uid (SO_PEERCRED) stands in for SigV4.
// At most max_connections at once on the TCP port and, counted apart, as many on the unix socket:
// more are closed at accept, so a flood of idle clients cannot take every fd, and clients of the
// TCP port (any local user can connect to it) cannot lock root out of the CLI socket.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <thread>
#include "agent/api/arns.hpp"
#include "agent/api/context.hpp"
#include "agent/api/http_listen.hpp"
#include "agent/api/unix_socket.hpp"

namespace berth::api {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Tcp = asio::ip::tcp;
using Local = asio::local::stream_protocol;

struct Server::Impl {
    Options options;
    store::Store store;
    ControlPlane* engine;
    // Open sessions, TCP and unix apart; only the io thread touches them. Declared before io:
    // the handlers io still holds when it is destroyed end sessions, which count down.
    std::size_t tcp_connections = 0;
    std::size_t unix_connections = 0;
    asio::io_context io{1};
    Tcp::acceptor acceptor{io};
    asio::steady_timer accept_pause{io}; // after an accept error (EMFILE): no busy loop
    Local::acceptor unix_acceptor{io};
    asio::steady_timer unix_accept_pause{io};
    UnixListener unix_listener; // the socket file and its lock
    std::string instance_arn;
    std::thread thread;

    Impl(Options o, store::Store s, ControlPlane* e)
        : options(std::move(o)), store(std::move(s)), engine(e)
    {
    }
    template <class Acceptor>
    void accept(Acceptor& from, asio::steady_timer& pause, std::size_t& connections);
};

namespace {

constexpr std::uint32_t header_limit = 16 * 1024;

std::int64_t epoch_seconds(std::chrono::system_clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// How a session's peer was authenticated: SigV4 on each request (TCP), the uid at accept (the
// unix socket), or not at all (the unix socket, wrong uid: every request gets a 403).
enum class Peer { SigV4, Trusted, Denied };

template <class Protocol>
class Session : public std::enable_shared_from_this<Session<Protocol>> {
public:
    Session(typename Protocol::socket socket, Server::Impl& server, Peer peer,
            std::size_t& connections)
        : stream_(std::move(socket)), server_(server), peer_(peer), connections_(connections)
    {
        ++connections_;
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() { --connections_; }
    void start() { read_header(); }

private:
    void read_header()
    {
        parser_.emplace();
        parser_->body_limit(server_.options.body_limit);
        parser_->header_limit(header_limit);
        stream_.expires_after(server_.options.header_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = this->shared_from_this()](
                                    beast::error_code ec, std::size_t) { self->on_header(ec); });
    }

    void on_header(beast::error_code ec)
    {
        if (ec)
            return on_read_error(ec);
        if (peer_ == Peer::Denied)
            return reply_and_close(
                403, ApiError{403, "AccessDeniedException",
                              "the berthd socket serves root only (peer credentials checked)"});
        stream_.expires_after(server_.options.body_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code e, std::size_t) {
                             self->on_body(e);
                         });
    }

    void on_read_error(beast::error_code ec)
    {
        if (ec == http::error::body_limit)
            return reply_and_close(413, ApiError{413, "ClientException",
                                                 cat("request body exceeds the limit of ",
                                                     server_.options.body_limit, " bytes")});
        if (ec == http::error::header_limit)
            return reply_and_close(
                431, ApiError{431, "ClientException",
                              cat("request headers exceed ", header_limit, " bytes")});
        if (ec == http::error::bad_target || ec == http::error::bad_method ||
            ec == http::error::bad_field || ec == http::error::bad_value ||
            ec == http::error::bad_version || ec == http::error::bad_content_length ||
            ec == http::error::bad_transfer_encoding || ec == http::error::bad_chunk ||
            ec == http::error::bad_line_ending || ec == http::error::bad_obs_fold)
            return reply_and_close(400, ApiError{400, "ClientException",
                                                 cat("malformed HTTP request: ", ec.message())});
        close(); // timeout, end of stream, reset: nothing to answer
    }

    void on_body(beast::error_code ec)
    {
        if (ec)
            return on_read_error(ec);
        auto request = parser_->release();
        sigv4::Request signed_request{std::string(request.method_string()),
                                      std::string(request.target()),
                                      {},
                                      std::move(request.body())};
        for (const auto& field : request)
            signed_request.headers.emplace_back(std::string(field.name_string()),
                                                std::string(field.value()));
        const auto now = std::chrono::system_clock::now();
        Context context{server_.options, server_.store, server_.engine, epoch_seconds(now)};
        write(handle_request(context, signed_request, now, peer_ == Peer::Trusted),
              request.keep_alive());
    }

    void reply_and_close(unsigned status, const ApiError& error)
    {
        auto response = error_response(error);
        response.status = status;
        write(response, false);
    }

    void write(const HttpResponse& reply, bool keep_alive)
    {
        response_ = {};
        response_.version(11);
        response_.result(reply.status);
        response_.set(http::field::content_type, reply.content_type);
        response_.set(http::field::server, "berth");
        response_.body() = reply.body;
        response_.keep_alive(keep_alive);
        response_.prepare_payload();
        stream_.expires_after(server_.options.body_timeout);
        http::async_write(
            stream_, response_,
            [self = this->shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                if (ec || !keep_alive)
                    return self->close();
                self->read_header();
            });
    }

    void close()
    {
        beast::error_code ignored;
        stream_.socket().shutdown(asio::socket_base::shutdown_both, ignored);
        stream_.close();
    }

    beast::basic_stream<Protocol> stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> response_;
    Server::Impl& server_;
    Peer peer_;
    std::size_t& connections_; // the count of this session's transport
};

Peer peer_of(const Tcp::socket& /*socket*/, const Options& /*options*/)
{
    return Peer::SigV4;
}

Peer peer_of(Local::socket& socket, const Options& options)
{
    auto uid = peer_uid(socket.native_handle());
    return uid && *uid == options.unix_socket_uid ? Peer::Trusted : Peer::Denied;
}

} // namespace

template <class Acceptor>
void Server::Impl::accept(Acceptor& from, asio::steady_timer& pause, std::size_t& connections)
{
    using Protocol = typename Acceptor::protocol_type;
    http_server::accept_loop(from, pause, connections, options.max_connections,
                             [this, &connections](typename Protocol::socket socket) {
                                 const Peer peer = peer_of(socket, options);
                                 std::make_shared<Session<Protocol>>(std::move(socket), *this, peer,
                                                                     connections)
                                     ->start();
                             });
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl))
{
}
Server::~Server()
{
    stop();
}

std::uint16_t Server::port() const
{
    return impl_->acceptor.local_endpoint().port();
}

const std::string& Server::container_instance_arn() const
{
    return impl_->instance_arn;
}

Result<std::unique_ptr<Server>> Server::start(Options options, store::Store store,
                                              ControlPlane* engine)
{
    if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty())
        return Error::invalid("API credentials: BERTH_API_ACCESS_KEY_ID and "
                              "BERTH_API_SECRET_ACCESS_KEY must be set (every request is "
                              "SigV4-verified against them)");
    // The node's cluster and its container instance exist before the first request; the
    // instance keeps its ARN across restarts (the store returns the existing row).
    const auto now = epoch_seconds(std::chrono::system_clock::now());
    if (auto r = store.ensure_cluster(options.cluster, cluster_arn(options, options.cluster), now);
        !r)
        return std::move(r).error().wrap("record cluster");
    const auto instance =
        make_arn(options, cat("container-instance/", options.cluster, "/", random_id()));
    auto recorded = store.ensure_container_instance(options.cluster, instance, now);
    if (!recorded)
        return std::move(recorded).error().wrap("record container instance");
    auto impl = std::make_unique<Impl>(std::move(options), std::move(store), engine);
    impl->instance_arn = recorded->arn;
    if (auto r = http_server::open_listener(impl->acceptor, impl->options.address,
                                            impl->options.port, "API");
        !r)
        return std::move(r).error();
    beast::error_code ec;
    if (!impl->options.unix_socket.empty()) {
        auto listener = open_unix_listener(impl->options.unix_socket);
        if (!listener)
            return std::move(listener).error().wrap("open the CLI socket");
        const int fd = listener->socket.get();
        impl->unix_listener = std::move(*listener);
        if (impl->unix_acceptor.assign(Local(), fd, ec); ec) {
            remove_unix_listener(impl->unix_listener);
            return Error::with_code(ec.value(), "watch the CLI socket");
        }
        (void)impl->unix_listener.socket.release(); // the acceptor owns the fd now
        impl->accept(impl->unix_acceptor, impl->unix_accept_pause, impl->unix_connections);
    }
    impl->accept(impl->acceptor, impl->accept_pause, impl->tcp_connections);
    Impl* raw = impl.get();
    impl->thread = std::thread([raw] { raw->io.run(); });
    return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::stop()
{
    if (!impl_ || !impl_->thread.joinable())
        return;
    impl_->io.stop();
    impl_->thread.join();
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    remove_unix_listener(impl_->unix_listener);
    impl_->unix_acceptor.close(ignored);
    impl_->unix_listener.lock.reset();
}

} // namespace berth::api
