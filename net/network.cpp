// Network: opening berth's host side (bridge, sysctls, table) and adding or removing one task's
// network. The state record is saved before the kernel work and removed after its undo, so a
// crash at any point leaves something recover() can finish.
#include <algorithm>
#include "base/files.hpp"
#include "net/network_state.hpp"

namespace berth::net {

namespace {

Result<void> check_config(const Config& config, const Ipv4Cidr& subnet)
{
    if (config.run_dir.empty() || config.run_dir.front() != '/')
        return Error::invalid("run_dir ", quoted(config.run_dir), ": must be an absolute path");
    if (config.bridge.empty() || config.bridge.size() > 15 ||
        config.bridge.find_first_of("/ \t\n") != std::string::npos)
        return Error::invalid("bridge name ", quoted(config.bridge),
                              ": 1..15 bytes, no / or space");
    if (subnet.prefix < 8 || subnet.prefix > 30)
        return Error::invalid("subnet ", quoted(config.subnet), ": prefix must be /8../30");
    if (config.port_range &&
        (config.port_range->first == 0 || config.port_range->first > config.port_range->last))
        return Error::invalid("port range ", config.port_range->first, "-", config.port_range->last,
                              ": must be 1..65535, first <= last");
    if (config.mtu && (*config.mtu < 68 || *config.mtu > 65535))
        return Error::invalid("mtu ", *config.mtu, ": must be 68..65535");
    return {};
}

// Every IPv4 offset must have its IPv6 twin: the IPv6 prefix leaves at least as many host bits.
Result<std::optional<Ipv6Cidr>> check_subnet6(const Config& config, const Ipv4Cidr& subnet)
{
    if (config.subnet6.empty())
        return std::optional<Ipv6Cidr>();
    auto subnet6 = parse_subnet6(config.subnet6);
    if (!subnet6)
        return std::move(subnet6).error();
    if (128 - subnet6->prefix < 32 - subnet.prefix)
        return Error::invalid("subnet6 ", quoted(config.subnet6), ": prefix /",
                              int{subnet6->prefix}, " has fewer host addresses than subnet ",
                              quoted(config.subnet), " (at most /", 96 + subnet.prefix, ")");
    return std::optional<Ipv6Cidr>(*subnet6);
}

// Inside a fresh task netns, on the thread that made it: lo up. The netlink socket opened here
// keeps acting on the task netns. (eth0 gets no IPv6 link-local address: up_without_ipv6.)
// With dual stack, eth0 must not take a router advertisement from another task on the bridge
// as its IPv6 route: accept_ra=0 on "default" here is inherited by the eth0 created later in
// this netns (no sysctl write needs entering the netns again). Without subnet6 the task has
// no IPv6 route to take over, and the write (an O(netns) /proc/sys lookup) is skipped.
Result<void> prepare_task_netns(std::optional<Netlink>& netlink, bool dual_stack)
{
    auto opened = Netlink::open();
    if (!opened)
        return std::move(opened).error().wrap("prepare task netns");
    netlink.emplace(std::move(*opened));
    if (dual_stack) {
        auto r = write_sysctl("/proc/sys/net/ipv6/conf/default/accept_ra", "0");
        if (!r)
            return std::move(r).error().wrap("task netns: IPv6 router advertisements off");
    }
    return netlink->set_up(1); // lo is ifindex 1 in every new netns
}

// A bridge is a host interface with the host's IPv6 defaults: accept_ra=1 and autoconf=1 would
// let any task with CAP_NET_RAW send a router advertisement and give the host netns a default
// route (and a SLAAC address) via the task (CVE-2020-13401 class). Neither is ever wanted on
// berth's bridge; with no subnet6 it gets no IPv6 at all. Written before the first port joins
// (a bridge with no ports receives nothing), in the netns of the calling thread (/proc/sys/net
// is per netns), and again on every open, as a restart may change subnet6.
Result<void> secure_bridge_ipv6(const Network::State& s)
{
    const std::string dir = cat("/proc/sys/net/ipv6/conf/", s.config.bridge, "/");
    for (const char* name : {"accept_ra", "autoconf"}) {
        auto r = write_sysctl(dir + name, "0");
        if (!r && r.error().code != ENOENT) // a kernel without IPv6: nothing to turn off
            return std::move(r).error().wrap(cat("bridge ", quoted(s.config.bridge)));
    }
    // Turning IPv6 off also removes every IPv6 address (a subnet6 since cleared included).
    auto r = write_sysctl(dir + "disable_ipv6", s.subnet6 ? "0" : "1");
    if (!r && r.error().code != ENOENT)
        return std::move(r).error().wrap(cat("bridge ", quoted(s.config.bridge)));
    return {};
}

Result<void> open_host_side(Network::State& s)
{
    auto mtu = s.config.mtu ? Result<std::optional<std::uint32_t>>(s.config.mtu)
                            : s.netlink.default_route_mtu();
    if (!mtu)
        return std::move(mtu).error();
    s.mtu = mtu->value_or(1500);
    auto bridge = s.netlink.link(s.config.bridge);
    if (!bridge)
        return std::move(bridge).error();
    if (!*bridge) {
        auto made = s.netlink.create_bridge(s.config.bridge, s.mtu);
        if (!made)
            return made;
        bridge = s.netlink.link(s.config.bridge);
        if (!bridge || !*bridge)
            return Error::with_code(ENODEV, "bridge ", quoted(s.config.bridge), " vanished");
    }
    s.bridge_index = (*bridge)->index;
    auto step = s.netlink.set_multicast_snooping_off(s.bridge_index);
    if (step)
        step = secure_bridge_ipv6(s);
    if (step)
        step = s.netlink.add_address(s.bridge_index, s.ipam.gateway(), s.ipam.prefix());
    if (step && s.subnet6)
        step = s.netlink.add_address6(s.bridge_index, ipv6_at(*s.subnet6, 1), s.subnet6->prefix);
    if (step)
        step = s.netlink.set_up(s.bridge_index);
    if (step)
        step = write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
    // 127.0.0.1 -> a mapped port is routed out of the bridge with a loopback source; only this
    // interface allows it (the guard chain drops what arrives on it for 127/8).
    if (step)
        step =
            write_sysctl(cat("/proc/sys/net/ipv4/conf/", s.config.bridge, "/route_localnet"), "1");
    if (!step)
        return step;
    return s.nft.rebuild(s.table(), s.file);
}

// Host and awsvpc mappings are recorded as given (no DNAT): still, a hostIp that is not an
// address would make the state file unreadable on the next open.
Result<void> check_unmapped_ports(const std::vector<PortMapping>& ports)
{
    for (std::size_t i = 0; i < ports.size(); ++i) {
        if (ports[i].container_port == 0)
            return Error::invalid("portMappings[", i, "]: containerPort must be 1..65535");
        if (!ports[i].host_ip.empty() && !parse_ipv4(ports[i].host_ip))
            return Error::invalid("portMappings[", i, "]: hostIp ", quoted(ports[i].host_ip),
                                  " is not IPv4");
    }
    return {};
}

Result<void> plan(Network::State& s, TaskRecord& task, const TaskRequest& request,
                  std::vector<Fd>& held)
{
    if (request.mode == Mode::None && !request.ports.empty())
        return Error::invalid("networkMode none: portMappings must be empty");
    if (request.mode != Mode::Bridge) {
        auto valid = check_unmapped_ports(request.ports);
        if (!valid)
            return valid;
    }
    if (request.mode == Mode::Host) {
        task.ports = request.ports; // the containers bind the host ports themselves
        return {};
    }
    if (request.mode == Mode::None)
        return {};
    auto address = s.ipam.allocate(s.file);
    if (!address)
        return std::move(address).error();
    task.address = *address;
    if (request.mode == Mode::Awsvpc) {
        for (std::size_t i = 0; i < request.ports.size(); ++i) {
            PortMapping port = request.ports[i];
            if (port.host_port != 0 && port.host_port != port.container_port)
                return Error::invalid("portMappings[", i, "]: awsvpc needs hostPort 0 or ",
                                      port.container_port);
            port.host_port = port.container_port; // reached at the task's own address
            task.ports.push_back(std::move(port));
        }
        return {};
    }
    auto ports = s.ports.assign(request.ports, s.file, held);
    if (!ports)
        return std::move(ports).error();
    task.ports = std::move(*ports);
    return {};
}

Result<void> disable_ipv6(const std::string& link)
{
    auto r = write_sysctl(cat("/proc/sys/net/ipv6/conf/", link, "/disable_ipv6"), "1");
    if (!r && r.error().code != ENOENT) // a kernel without IPv6: nothing to turn off
        return std::move(r).error().wrap(cat("turn off IPv6 on ", quoted(link)));
    return {};
}

Result<void> connect(Network::State& s, const TaskRecord& task, int netns_fd, Netlink& inside)
{
    const std::string host_end = veth_name(task.address);
    auto veth = s.netlink.create_veth(host_end, "eth0", netns_fd, s.bridge_index, s.mtu);
    if (!veth && veth.error().code == EEXIST) {
        // The last owner of this address went moments ago and the kernel has not finished
        // freeing its netns (which takes the veth with it): delete it now and retry.
        veth = s.netlink.delete_link(host_end);
        if (veth)
            veth = s.netlink.create_veth(host_end, "eth0", netns_fd, s.bridge_index, s.mtu);
    }
    // No IPv6 at all on the host end (a bridge port needs no address): with only address
    // generation off, bringing it up still adds its ff00::/8 route to the host's table, which
    // the kernel walks on every later link change (setup cost grew with the number of tasks).
    // Its sysctl directory is its own (the name is unique), so this is no O(netns) lookup.
    if (veth)
        veth = disable_ipv6(host_end);
    if (veth)
        veth = s.netlink.up_as_hairpin_port(host_end);
    if (!veth)
        return veth;
    auto eth0 = inside.link("eth0");
    if (!eth0 || !*eth0)
        return Error::with_code(ENODEV, "task ", task.id, ": eth0 missing in its netns");
    auto address = inside.add_address((*eth0)->index, task.address, s.ipam.prefix());
    const auto address6 = s.address6(task.address);
    if (address && address6) // no DAD (the address is berth's alone on its bridge)
        address = inside.add_address6((*eth0)->index, *address6, s.subnet6->prefix);
    if (address)
        address = inside.up_without_ipv6("eth0");
    if (address)
        address = inside.add_default_route(s.ipam.gateway());
    if (address && address6)
        address = inside.add_default_route6(ipv6_at(*s.subnet6, 1));
    return address;
}

Result<void> build(Network::State& s, const TaskRecord& task, const std::string& hostname)
{
    if (task.mode != Mode::Host) {
        std::optional<Netlink> inside;
        auto ns = Netns::create(s.netns_path(task.id),
                                [&] { return prepare_task_netns(inside, s.subnet6.has_value()); });
        if (!ns)
            return std::move(ns).error();
        if (task.mode != Mode::None) {
            auto r = connect(s, task, ns->fd(), *inside);
            if (!r)
                return r;
        }
        ns->keep();
    }
    auto mapped = s.nft.add_task(task);
    if (mapped)
        mapped = flush_udp_conntrack(udp_host_ports(task));
    if (!mapped)
        return mapped;
    const auto address =
        task.address != 0 ? std::optional<std::uint32_t>(task.address) : std::nullopt;
    return write_task_files(s.task_files(task.id), task.mode, hostname, address,
                            s.address6(task.address));
}

} // namespace

Network::Network(std::unique_ptr<State> state) : s_(std::move(state))
{
}
Network::Network(Network&&) noexcept = default;
Network& Network::operator=(Network&&) noexcept = default;
Network::~Network() = default;

TaskInfo Network::State::info(const TaskRecord& task) const
{
    TaskInfo info{task.id, task.mode, "", std::nullopt, task.ports, task_files(task.id)};
    if (task.mode != Mode::Host)
        info.netns_path = netns_path(task.id);
    if (task.address != 0)
        info.address = task.address;
    info.address6 = address6(task.address);
    return info;
}

Result<Network> Network::open(Config config)
{
    auto subnet = parse_cidr(config.subnet);
    if (!subnet)
        return std::move(subnet).error().wrap("net config");
    auto valid = check_config(config, *subnet);
    if (!valid)
        return std::move(valid).error().wrap("net config");
    auto subnet6 = check_subnet6(config, *subnet);
    if (!subnet6)
        return std::move(subnet6).error().wrap("net config");
    auto nft = Nft::open();
    auto netlink = Netlink::open();
    if (!nft || !netlink)
        return nft ? std::move(netlink).error() : std::move(nft).error();
    const PortRange range = config.port_range.value_or(PortAllocator::default_range());
    std::vector<std::uint16_t> reserved = config.reserved_ports;
    const std::string run_dir = config.run_dir;
    auto s = std::make_unique<State>(State{std::move(config),
                                           Ipam(*subnet),
                                           PortAllocator(range, std::move(reserved)),
                                           std::move(*nft),
                                           std::move(*netlink),
                                           {},
                                           run_dir + "/state.json",
                                           run_dir + "/netns",
                                           run_dir + "/files"});
    for (const auto& dir : {s->netns_dir, s->files_dir}) {
        auto made = make_directories(dir, 0700);
        if (!made)
            return std::move(made).error().wrap("net run dir");
    }
    if (!s->config.credentials_endpoint.empty()) {
        auto endpoint = parse_endpoint(s->config.credentials_endpoint);
        if (!endpoint)
            return std::move(endpoint).error().wrap("net config: credentials_endpoint");
        s->credentials = *endpoint;
    }
    s->subnet6 = *subnet6;
    auto file = load_state(s->state_path);
    if (!file)
        return std::move(file).error();
    s->file = std::move(*file);
    auto host = open_host_side(*s);
    if (!host)
        return std::move(host).error().wrap("open berth network");
    s->nft.release(); // the table is written: an idle node needs no libnftables (RSS)
    return Network(std::move(s));
}

Result<TaskInfo> Network::add_task(const TaskRequest& request)
{
    auto valid = check_task_id(request.task_id);
    if (!valid)
        return std::move(valid).error().wrap("add task network");
    if (s_->file.tasks.count(request.task_id) != 0)
        return Error::with_code(EEXIST, "add task network: task ", request.task_id,
                                " already has one");
    TaskRecord task{request.task_id, request.mode, 0, {}};
    std::vector<Fd> held; // host ports stay bound until their DNAT exists
    auto planned = plan(*s_, task, request, held);
    if (!planned)
        return std::move(planned).error().wrap(cat("add network of task ", task.id));
    s_->file.tasks.emplace(task.id, task);
    auto saved = save_state(s_->state_path, s_->file);
    if (saved)
        saved = build(*s_, task, request.hostname.empty() ? task.id : request.hostname);
    if (!saved) {
        (void)s_->teardown(task); // best effort: recover() sweeps what no record owns
        s_->file.tasks.erase(task.id);
        (void)save_state(s_->state_path, s_->file);
        return std::move(saved).error().wrap(cat("add network of task ", task.id));
    }
    return s_->info(task);
}

Result<void> Network::State::teardown(const TaskRecord& task)
{
    Result<void> first;
    auto keep_first = [&first](Result<void> r) {
        if (!r && first)
            first = std::move(r);
    };
    auto unmapped = nft.remove_task(task);
    if (!unmapped) { // its elements are gone (a firewall reload): rebuild without them
        StateFile rest = file;
        rest.tasks.erase(task.id);
        unmapped = nft.rebuild(table(), rest);
    }
    keep_first(std::move(unmapped));
    keep_first(flush_udp_conntrack(udp_host_ports(task)));
    // The veth is not deleted here: unmounting the netns lets the kernel free it, and the veth
    // pair with it, in its batched cleanup work instead of one RCU grace period per link
    // (30 ms each on this machine). A name not yet freed is handled in connect().
    if (task.mode != Mode::Host) {
        auto ns = Netns::open(netns_path(task.id));
        if (ns)
            keep_first(ns->remove());
        else if (ns.error().code != ENOENT)
            keep_first(remove_netns_file(netns_path(task.id))); // a crash left a bare file
    }
    for (const char* name : {"resolv.conf", "hosts", "hostname"})
        ::unlink(cat(task_files(task.id), "/", name).c_str());
    ::rmdir(task_files(task.id).c_str());
    return first;
}

Result<void> Network::remove_task(std::string_view task_id)
{
    auto found = s_->file.tasks.find(task_id);
    if (found == s_->file.tasks.end())
        return Error::with_code(ENOENT, "remove network of task ", quoted(task_id),
                                ": no such task");
    auto r = s_->teardown(found->second);
    if (!r)
        return std::move(r).error().wrap(cat("remove network of task ", task_id));
    s_->file.tasks.erase(found);
    return save_state(s_->state_path, s_->file);
}

Result<bool> Network::check_and_repair()
{
    auto stale = s_->nft.stale();
    if (!stale)
        return std::move(stale).error();
    if (!*stale)
        return false;
    auto rebuilt = s_->nft.rebuild(s_->table(), s_->file);
    s_->nft.release(); // a repair is rare: the next task's transaction loads it again
    if (!rebuilt)
        return std::move(rebuilt).error().wrap("repair table ip berth");
    return true;
}

std::optional<TaskInfo> Network::find_task(std::string_view task_id) const
{
    auto found = s_->file.tasks.find(task_id);
    if (found == s_->file.tasks.end())
        return std::nullopt;
    return s_->info(found->second);
}

std::vector<TaskInfo> Network::tasks() const
{
    std::vector<TaskInfo> all;
    for (const auto& [id, task] : s_->file.tasks)
        all.push_back(s_->info(task));
    return all;
}

} // namespace berth::net
