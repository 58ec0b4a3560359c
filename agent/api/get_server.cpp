// agent/api/get_server.cpp — GetServer (get_server.hpp): Boost.Beast on its own io thread, GET
// only, small requests (no body), header and write timeouts, at most max_connections at once
// (more are closed at accept). The session is http_listen.hpp's.
#include <thread>
#include "agent/api/get_server.hpp"
#include "agent/api/http_listen.hpp"

namespace berth::api {
namespace hs = http_server;

struct GetServer::Impl {
    GetServerOptions options;
    Answer answer;
    hs::GetLimits limits;
    std::size_t connections = 0; // io thread only; before io (see server.cpp)
    hs::asio::io_context io{1};
    hs::Tcp::acceptor acceptor{io};
    hs::asio::steady_timer accept_pause{io};
    std::thread thread;

    Impl(GetServerOptions o, Answer a) : options(std::move(o)), answer(std::move(a))
    {
        limits.header_timeout = options.header_timeout;
        limits.write_timeout = options.write_timeout;
        limits.read_only_message = options.read_only_message;
    }

    void accept()
    {
        hs::accept_loop(acceptor, accept_pause, connections, options.max_connections,
                        [this](hs::Tcp::socket socket) {
                            auto reply = [this](std::string_view target) {
                                auto r = answer(target);
                                return hs::Reply{r.status, std::move(r.body)};
                            };
                            std::make_shared<hs::GetSession<decltype(reply)>>(
                                std::move(socket), connections, limits, reply)
                                ->start();
                        });
    }
};

GetServer::GetServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl))
{
}

GetServer::~GetServer()
{
    stop();
}

std::uint16_t GetServer::port() const
{
    return impl_->acceptor.local_endpoint().port();
}

Result<std::unique_ptr<GetServer>> GetServer::start(GetServerOptions options, Answer answer)
{
    auto impl = std::make_unique<Impl>(std::move(options), std::move(answer));
    if (auto r = hs::open_listener(impl->acceptor, impl->options.address, impl->options.port,
                                   impl->options.what);
        !r)
        return std::move(r).error();
    impl->accept();
    Impl* raw = impl.get();
    impl->thread = std::thread([raw] { raw->io.run(); });
    return std::unique_ptr<GetServer>(new GetServer(std::move(impl)));
}

void GetServer::stop()
{
    if (!impl_ || !impl_->thread.joinable())
        return;
    impl_->io.stop();
    impl_->thread.join();
    hs::beast::error_code ignored;
    impl_->acceptor.close(ignored);
}

} // namespace berth::api
