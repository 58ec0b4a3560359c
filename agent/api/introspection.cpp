// agent/api/introspection.cpp — the ECS agent's introspection API (see api.hpp) on a GetServer
// (get_server.hpp); answers from introspection_shapes.cpp.
#include "agent/api/api.hpp"
#include "agent/api/get_server.hpp"
#include "agent/api/introspection.hpp"

namespace berth::api {

struct IntrospectionServer::Impl {
    Impl(NodeInfo n, ControlPlane& e) : node(std::move(n)), engine(e) {}
    NodeInfo node;
    ControlPlane& engine;
    std::unique_ptr<GetServer> server; // last: stopped before what its answers use goes
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
    return impl_->server->port();
}

Result<std::unique_ptr<IntrospectionServer>>
IntrospectionServer::start(IntrospectionOptions options, NodeInfo node, ControlPlane& engine)
{
    auto impl = std::make_unique<Impl>(std::move(node), engine);
    Impl* raw = impl.get();
    auto server =
        GetServer::start({std::move(options.address), options.port, options.max_connections,
                          options.header_timeout, options.write_timeout, "introspection",
                          R"({"error":"the introspection API is read-only: GET only"})"},
                         [raw](std::string_view target) {
                             return introspection_response(raw->node, raw->engine, target);
                         });
    if (!server)
        return std::move(server).error();
    impl->server = std::move(*server);
    return std::unique_ptr<IntrospectionServer>(new IntrospectionServer(std::move(impl)));
}

void IntrospectionServer::stop()
{
    if (impl_ && impl_->server)
        impl_->server->stop();
}

} // namespace berth::api
