// agent/daemon/daemon.cpp — opening the node (directories, store, images, network, runtime
// options, capacity), restoring, and the loop's life. berth-supervisor is not started here: the
// runtime starts it (Options::start_supervisor, ensure_supervisor) at the first request that
// needs it, a restored live container's watch included, and it exits when idle. Asio's io_context
// is the one loop: timers, exit waits on fds and the hand-over from workers and the API thread all
// land there, so the engine and the store are only ever touched from one thread.
#include <unistd.h>
#include <csignal>
#include "agent/daemon/build_paths.hpp"
#include "agent/daemon/internal.hpp"
#include "base/files.hpp"
#include "base/log.hpp"

namespace berth::daemon {
namespace {

Result<void> make_dirs(const Paths& p)
{
    for (const auto& dir : {p.state_dir, p.runtime_dir, p.logs(), p.volumes(), p.bundles()})
        if (auto r = make_directories(dir, 0700); !r)
            return r;
    return {};
}

net::Config net_config(const config::Config& c, const Paths& p, bool metadata)
{
    net::Config n;
    n.run_dir = p.net();
    n.bridge = c.bridge;
    n.subnet = c.subnet;
    n.subnet6 = c.subnet6;
    if (c.dynamic_host_port_range)
        n.port_range =
            net::PortRange{c.dynamic_host_port_range->first, c.dynamic_host_port_range->last};
    n.reserved_ports.assign(c.reserved_ports.begin(), c.reserved_ports.end());
    if (metadata)
        n.credentials_endpoint = c.metadata_listen; // 169.254.170.2:80 -> berthd's listener
    return n;
}

runtime::Options runtime_options(const config::Config& c, const Paths& p)
{
    runtime::Options o;
    o.root = p.containers();
    o.cgroup_root = c.cgroup_root;
    o.supervisor_socket = p.supervisor_socket();
    o.warn = [](const Error& e) { log::warn("runtime warning", {{"error", e.message()}}); };
    return o;
}

std::string random_hex()
{
    std::string out;
    auto bytes = read_file("/proc/sys/kernel/random/uuid");
    for (const char ch : bytes ? *bytes : std::string())
        if (ch != '-' && ch != '\n')
            out += ch;
    return out;
}

} // namespace

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl))
{
}

Daemon::~Daemon()
{
    stop();
    // Steps already running finish; queued ones are dropped (stop() before join(), or they
    // would run after the loop stopped). Their answers are dropped with the loop: none owns
    // anything whose destructor undoes work (create keeps its rootfs on the worker).
    impl_->workers.stop();
    impl_->pull_workers.stop();
    impl_->cleanup_worker.stop();
    impl_->probe_workers.stop();
    impl_->workers.join();
    impl_->pull_workers.join();
    impl_->cleanup_worker.join();
    impl_->probe_workers.join();
}

Result<std::unique_ptr<Daemon>> Daemon::open(Options options)
{
    const auto& c = options.config;
    if (auto r = check_registry_files(c); !r)
        return r.error();
    Paths paths{c.state_dir, c.runtime_dir};
    if (auto r = make_dirs(paths); !r)
        return std::move(r).error().wrap("directories");
    auto store = store::Store::open(paths.db());
    if (!store)
        return std::move(store).error().wrap(cat("open ", paths.db()));
    const auto prefix = cat("arn:aws:ecs:", c.region, ":", options.account_id, ":");
    if (auto r = store->ensure_cluster(c.cluster, cat(prefix, "cluster/", c.cluster), now_s()); !r)
        return std::move(r).error().wrap("record cluster");
    auto instance = store->ensure_container_instance(
        c.cluster, cat(prefix, "container-instance/", c.cluster, "/", random_hex()), now_s());
    if (!instance)
        return std::move(instance).error().wrap("record container instance");
    auto images = image::Store::open(paths.images());
    if (!images)
        return std::move(images).error().wrap("open image store");
    if (auto r = images->recover(); !r)
        return std::move(r).error().wrap("recover image store");
    auto network = net::Network::open(net_config(c, paths, !options.metadata_key.empty()));
    if (!network)
        return std::move(network).error().wrap("open task network");
    std::set<std::uint16_t> reserved(c.reserved_ports.begin(), c.reserved_ports.end());
    auto capacity =
        engine::read_host_capacity(c.reserved_memory_mib, reserved, c.reserved_ports_udp);
    if (!capacity)
        return std::move(capacity).error().wrap("host capacity");
    api::NodeInfo node{c.cluster, instance->arn, BERTH_VERSION}; // before options moves away
    auto impl = std::make_unique<Impl>(std::move(options), paths, std::move(*store),
                                       std::move(*images), std::move(*network),
                                       runtime_options(c, paths), std::move(*capacity));
    impl->node = std::move(node);
    if (auto r = impl->restore(); !r)
        return std::move(r).error().wrap("restore");
    impl->start_housekeeping();
    return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

void Daemon::run()
{
    impl_->io.run();
}

void Daemon::stop()
{
    impl_->io.stop();
}

api::NodeInfo Daemon::node_info() const
{
    return impl_->node;
}

} // namespace berth::daemon
