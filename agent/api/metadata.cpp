// agent/api/metadata.cpp — the task metadata server (see api.hpp) on a GetServer
// (get_server.hpp); answers from metadata_shapes.cpp. Task definitions come from the server's
// own store connection (read-only use, on the server's io thread only).
#include "agent/api/api.hpp"
#include "agent/api/get_server.hpp"
#include "agent/api/metadata.hpp"
#include "base/strings.hpp"

namespace berth::api {

struct MetadataServer::Impl {
    store::Store store;
    MetadataSource source;
    StatsHistory history;              // io thread only
    std::unique_ptr<GetServer> server; // last: stopped before what its answers use goes

    Impl(NodeInfo node, std::string key, ControlPlane& engine, store::Store s)
        : store(std::move(s)), source{std::move(node), std::move(key), engine, {}}
    {
        source.definition = [this](const std::string& arn) { return definition(arn); };
        source.tags = [this](const std::string& arn) { return store.tags(arn); };
        source.history = &history;
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
    return impl_->server->port();
}

Result<std::unique_ptr<MetadataServer>> MetadataServer::start(MetadataOptions options,
                                                              NodeInfo node, std::string key,
                                                              ControlPlane& engine,
                                                              store::Store store)
{
    auto impl = std::make_unique<Impl>(std::move(node), std::move(key), engine, std::move(store));
    Impl* raw = impl.get();
    auto server = GetServer::start(
        {std::move(options.address), options.port, options.max_connections, options.header_timeout,
         options.write_timeout, "task metadata",
         R"("the task metadata endpoint is read-only: GET only")"},
        [raw](std::string_view target) { return metadata_response(raw->source, target); });
    if (!server)
        return std::move(server).error();
    impl->server = std::move(*server);
    return std::unique_ptr<MetadataServer>(new MetadataServer(std::move(impl)));
}

void MetadataServer::stop()
{
    if (impl_ && impl_->server)
        impl_->server->stop();
}

} // namespace berth::api
