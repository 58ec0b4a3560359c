// agent/api/introspection.cpp — the ECS agent's introspection API (see api.hpp): Boost.Beast on
// its own io thread, GET only, small requests (no body), header and write timeouts, at most
// max_connections at once (more are closed at accept). The session is http_listen.hpp's.
#include <memory>
#include <thread>
#include "agent/api/api.hpp"
#include "agent/api/http_listen.hpp"
#include "agent/api/introspection.hpp"

namespace berth::api {
namespace hs = http_server;

struct IntrospectionServer::Impl {
    IntrospectionOptions options;
    NodeInfo node;
    ControlPlane& engine;
    hs::GetLimits limits;
    std::size_t connections = 0; // io thread only; before io (see server.cpp)
    hs::asio::io_context io{1};
    hs::Tcp::acceptor acceptor{io};
    hs::asio::steady_timer accept_pause{io};
    std::thread thread;

    Impl(IntrospectionOptions o, NodeInfo n, ControlPlane& e)
        : options(std::move(o)), node(std::move(n)), engine(e)
    {
        limits.header_timeout = options.header_timeout;
        limits.write_timeout = options.write_timeout;
        limits.read_only_message = R"({"error":"the introspection API is read-only: GET only"})";
    }
    void accept()
    {
        hs::accept_loop(acceptor, accept_pause, connections, options.max_connections,
                        [this](hs::Tcp::socket socket) {
                            auto answer = [this](std::string_view target) {
                                auto r = introspection_response(node, engine, target);
                                return hs::Reply{r.status, std::move(r.body)};
                            };
                            std::make_shared<hs::GetSession<decltype(answer)>>(
                                std::move(socket), connections, limits, answer)
                                ->start();
                        });
    }
};

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
    auto impl = std::make_unique<Impl>(std::move(options), std::move(node), engine);
    if (auto r = hs::open_listener(impl->acceptor, impl->options.address, impl->options.port,
                                   "introspection");
        !r)
        return std::move(r).error();
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
    hs::beast::error_code ignored;
    impl_->acceptor.close(ignored);
}

} // namespace berth::api
