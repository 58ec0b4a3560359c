// agent/api/metadata.cpp — the task metadata server (see api.hpp): http_listen.hpp's GET-only
// sessions on its own io thread; answers from metadata_shapes.cpp. Task definitions come from
// the server's own store connection (read-only use, on this thread only).
#include <memory>
#include <thread>
#include "agent/api/api.hpp"
#include "agent/api/http_listen.hpp"
#include "agent/api/metadata.hpp"

namespace berth::api {
namespace hs = http_server;

struct MetadataServer::Impl {
    MetadataOptions options;
    store::Store store;
    MetadataSource source;
    hs::GetLimits limits;
    std::size_t connections = 0; // io thread only; before io (see server.cpp)
    hs::asio::io_context io{1};
    hs::Tcp::acceptor acceptor{io};
    hs::asio::steady_timer accept_pause{io};
    std::thread thread;

    Impl(MetadataOptions o, NodeInfo node, std::string key, ControlPlane& engine, store::Store s)
        : options(std::move(o)),
          store(std::move(s)), source{std::move(node), std::move(key), engine, {}}
    {
        source.definition = [this](const std::string& arn) { return definition(arn); };
        limits.header_timeout = options.header_timeout;
        limits.write_timeout = options.write_timeout;
        limits.read_only_message = R"("the task metadata endpoint is read-only: GET only")";
    }

    std::optional<std::string> definition(const std::string& arn)
    {
        const auto slash = arn.rfind('/');
        const auto name = arn.substr(slash == std::string::npos ? 0 : slash + 1);
        const auto colon = name.rfind(':');
        if (colon == std::string::npos)
            return std::nullopt;
        const auto revision = parse_int<int>(std::string_view(name).substr(colon + 1));
        if (!revision)
            return std::nullopt;
        auto found = store.task_definition(name.substr(0, colon), *revision);
        if (!found || !*found)
            return std::nullopt;
        return (*found)->body;
    }

    void accept()
    {
        hs::accept_loop(acceptor, accept_pause, connections, options.max_connections,
                        [this](hs::Tcp::socket socket) {
                            auto answer = [this](std::string_view target) {
                                auto r = metadata_response(source, target);
                                return hs::Reply{r.status, std::move(r.body)};
                            };
                            std::make_shared<hs::GetSession<decltype(answer)>>(
                                std::move(socket), connections, limits, answer)
                                ->start();
                        });
    }
};

MetadataServer::MetadataServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl))
{
}

MetadataServer::~MetadataServer()
{
    stop();
}

std::uint16_t MetadataServer::port() const
{
    return impl_->acceptor.local_endpoint().port();
}

Result<std::unique_ptr<MetadataServer>> MetadataServer::start(MetadataOptions options,
                                                              NodeInfo node, std::string key,
                                                              ControlPlane& engine,
                                                              store::Store store)
{
    auto impl = std::make_unique<Impl>(std::move(options), std::move(node), std::move(key), engine,
                                       std::move(store));
    if (auto r = hs::open_listener(impl->acceptor, impl->options.address, impl->options.port,
                                   "task metadata");
        !r)
        return std::move(r).error();
    impl->accept();
    Impl* raw = impl.get();
    impl->thread = std::thread([raw] { raw->io.run(); });
    return std::unique_ptr<MetadataServer>(new MetadataServer(std::move(impl)));
}

void MetadataServer::stop()
{
    if (!impl_ || !impl_->thread.joinable())
        return;
    impl_->io.stop();
    impl_->thread.join();
    hs::beast::error_code ignored;
    impl_->acceptor.close(ignored);
}

} // namespace berth::api
