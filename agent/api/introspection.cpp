// agent/api/introspection.cpp — the ECS agent's introspection API (see api.hpp): Boost.Beast on
// its own io thread, GET only, small requests (no body), header and write timeouts, at most
// max_connections at once (more are closed at accept).
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <thread>
#include <nlohmann/json.hpp>
#include "agent/api/api.hpp"
#include "agent/api/introspection.hpp"

namespace berth::api {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Tcp = asio::ip::tcp;

struct IntrospectionServer::Impl {
    IntrospectionOptions options;
    NodeInfo node;
    ControlPlane& engine;
    std::size_t connections = 0; // io thread only; before io (see server.cpp)
    asio::io_context io{1};
    Tcp::acceptor acceptor{io};
    asio::steady_timer accept_pause{io};
    std::thread thread;

    Impl(IntrospectionOptions o, NodeInfo n, ControlPlane& e)
        : options(std::move(o)), node(std::move(n)), engine(e)
    {
    }
    void accept();
};

namespace {

constexpr std::uint32_t header_limit = 8 * 1024;

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(Tcp::socket socket, IntrospectionServer::Impl& server)
        : stream_(std::move(socket)), server_(server)
    {
        ++server_.connections;
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() { --server_.connections; }
    void start() { read(); }

private:
    void read()
    {
        parser_.emplace();
        parser_->header_limit(header_limit);
        parser_->body_limit(0); // GET: no body
        stream_.expires_after(server_.options.header_timeout);
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec)
    {
        if (ec == http::error::body_limit)
            return write({413, R"({"error":"introspection requests have no body"})"}, false);
        if (ec == http::error::header_limit)
            return write({431, R"({"error":"request headers too large"})"}, false);
        if (ec) {
            close(); // timeout, end of stream, garbage: nothing worth answering
            return;
        }
        const auto& request = parser_->get();
        const bool keep_alive = request.keep_alive();
        if (request.method() != http::verb::get)
            return write({405, R"({"error":"the introspection API is read-only: GET only"})"},
                         false);
        const auto target = request.target();
        write(introspection_response(server_.node, server_.engine,
                                     std::string_view(target.data(), target.size())),
              keep_alive);
    }

    void write(const IntrospectionResponse& reply, bool keep_alive)
    {
        response_ = {};
        response_.version(11);
        response_.result(reply.status);
        response_.set(http::field::content_type, "application/json");
        response_.set(http::field::server, "berth");
        response_.body() = reply.body;
        response_.keep_alive(keep_alive);
        response_.prepare_payload();
        stream_.expires_after(server_.options.write_timeout);
        http::async_write(
            stream_, response_,
            [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
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
    IntrospectionServer::Impl& server_;
};

} // namespace

void IntrospectionServer::Impl::accept()
{
    acceptor.async_accept([this](beast::error_code ec, Tcp::socket socket) {
        if (ec == asio::error::operation_aborted)
            return;
        if (!ec) {
            if (connections < options.max_connections)
                std::make_shared<Session>(std::move(socket), *this)->start();
            accept();
            return;
        }
        accept_pause.expires_after(std::chrono::milliseconds(100)); // EMFILE: no busy loop
        accept_pause.async_wait([this](beast::error_code wait_ec) {
            if (wait_ec != asio::error::operation_aborted)
                accept();
        });
    });
}

IntrospectionServer::IntrospectionServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl))
{
}

IntrospectionServer::~IntrospectionServer()
{
    stop();
}

std::uint16_t IntrospectionServer::port() const
{
    return impl_->acceptor.local_endpoint().port();
}

Result<std::unique_ptr<IntrospectionServer>>
IntrospectionServer::start(IntrospectionOptions options, NodeInfo node, ControlPlane& engine)
{
    beast::error_code ec;
    const auto address = asio::ip::make_address(options.address, ec);
    if (ec)
        return Error::invalid("introspection address ", quoted(options.address),
                              ": not an IP address");
    const Tcp::endpoint endpoint(address, options.port);
    auto impl = std::make_unique<Impl>(std::move(options), std::move(node), engine);
    auto& acceptor = impl->acceptor;
    if (acceptor.open(endpoint.protocol(), ec); ec)
        return Error::with_code(ec.value(), "open introspection socket");
    if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec)
        return Error::with_code(ec.value(), "set SO_REUSEADDR on introspection socket");
    if (acceptor.bind(endpoint, ec); ec)
        return Error::with_code(ec.value(), "bind introspection socket to ", impl->options.address,
                                ":", endpoint.port());
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec)
        return Error::with_code(ec.value(), "listen on introspection socket");
    impl->accept();
    Impl* raw = impl.get();
    impl->thread = std::thread([raw] { raw->io.run(); });
    return std::unique_ptr<IntrospectionServer>(new IntrospectionServer(std::move(impl)));
}

void IntrospectionServer::stop()
{
    if (!impl_ || !impl_->thread.joinable())
        return;
    impl_->io.stop();
    impl_->thread.join();
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
}

} // namespace berth::api
