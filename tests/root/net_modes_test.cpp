// Task networks in each ECS networkMode, proven with real TCP and UDP traffic. Every case runs
// in a fresh "host" network namespace of its own (tests/root/net_support.hpp).
#define BOOST_TEST_MODULE net_modes
#include <net/if.h>
#include <sys/ioctl.h>
#include <cstring>
#include <thread>
#include "base/files.hpp"
#include "tests/root/net_support.hpp"

namespace utf = boost::unit_test;
using namespace berth;
using test::echo;
using test::ip;

namespace {

net::PortMapping mapping(std::uint16_t container, net::Protocol protocol, std::uint16_t host = 0)
{
    return net::PortMapping{container, host, protocol, ""};
}

// Reads a value in the task netns (sysctls and interface data are per namespace); -1: in the
// test's own netns (the calling thread's).
std::string read_in(int netns_fd, const std::string& path)
{
    std::string value;
    std::thread([&] {
        if (netns_fd < 0 || ::setns(netns_fd, CLONE_NEWNET) == 0)
            if (auto text = read_file(path))
                value = std::string(trim(*text));
    }).join();
    return value;
}

int mtu_in(int netns_fd, const char* name)
{
    int mtu = -1;
    std::thread([&] {
        if (::setns(netns_fd, CLONE_NEWNET) < 0)
            return;
        Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        ifreq request{};
        std::snprintf(request.ifr_name, IFNAMSIZ, "%s", name);
        if (::ioctl(s.get(), SIOCGIFMTU, &request) == 0)
            mtu = request.ifr_mtu;
    }).join();
    return mtu;
}

std::vector<std::string> links_in(int netns_fd)
{
    std::vector<std::string> names;
    std::thread([&] {
        if (::setns(netns_fd, CLONE_NEWNET) < 0)
            return;
        if (struct if_nameindex* all = ::if_nameindex()) {
            for (auto* i = all; i->if_index != 0; ++i)
                names.emplace_back(i->if_name);
            ::if_freenameindex(all);
        }
    }).join();
    return names;
}

} // namespace

BOOST_AUTO_TEST_SUITE(modes, *utf::label("root") * utf::precondition(test::is_root))

BOOST_FIXTURE_TEST_CASE(bridge_ports_answer_from_host_localhost_other_task_and_itself,
                        test::FreshHost)
{
    auto network = net::Network::open(config());
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto a = network->add_task({"task-a",
                                net::Mode::Bridge,
                                {mapping(80, net::Protocol::Tcp), mapping(53, net::Protocol::Udp)},
                                ""});
    BOOST_TEST_REQUIRE(a.has_value(), test::why(a));
    auto b = network->add_task({"task-b", net::Mode::Bridge, {}, ""});
    BOOST_TEST_REQUIRE(b.has_value(), test::why(b));
    const std::uint16_t tcp_port = a->ports[0].host_port;
    const std::uint16_t udp_port = a->ports[1].host_port;
    BOOST_TEST(tcp_port != 0);
    BOOST_TEST(udp_port != 0);
    BOOST_TEST(tcp_port > 60999); // outside ip_local_port_range (32768-60999 by default)

    Fd a_ns = test::open_netns(a->netns_path);
    Fd b_ns = test::open_netns(b->netns_path);
    test::EchoServer tcp(a_ns.get(), SOCK_STREAM, 80);
    test::EchoServer udp(a_ns.get(), SOCK_DGRAM, 53);
    BOOST_TEST_REQUIRE(tcp.ok());
    BOOST_TEST_REQUIRE(udp.ok());
    const std::uint32_t gateway = ip("10.213.7.1"); // the host's address on berth0

    BOOST_TEST(echo(-1, SOCK_STREAM, gateway, tcp_port) == "ping");         // host
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), tcp_port) == "ping"); // localhost
    BOOST_TEST(echo(b_ns.get(), SOCK_STREAM, gateway, tcp_port) == "ping"); // other task
    BOOST_TEST(echo(a_ns.get(), SOCK_STREAM, gateway, tcp_port) == "ping"); // hairpin
    BOOST_TEST(echo(-1, SOCK_DGRAM, gateway, udp_port) == "ping");
    BOOST_TEST(echo(-1, SOCK_DGRAM, ip("127.0.0.1"), udp_port) == "ping");
    BOOST_TEST(echo(b_ns.get(), SOCK_DGRAM, gateway, udp_port) == "ping");
    BOOST_TEST(echo(a_ns.get(), SOCK_DGRAM, gateway, udp_port) == "ping");
    // The task's own address answers directly too, and a task reaches another task's IP.
    BOOST_TEST(echo(b_ns.get(), SOCK_STREAM, *a->address, 80) == "ping");

    BOOST_TEST_REQUIRE(network->remove_task("task-a").has_value());
    BOOST_TEST(echo(-1, SOCK_STREAM, gateway, tcp_port) == "");
    BOOST_TEST(!path_exists(a->netns_path));
    BOOST_TEST(network->tasks().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(awsvpc_task_has_its_own_address_that_every_container_joins, test::FreshHost)
{
    auto c = config();
    c.mtu = 1400;
    auto network = net::Network::open(c);
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto task =
        network->add_task({"vpc", net::Mode::Awsvpc, {mapping(8080, net::Protocol::Tcp)}, "web"});
    BOOST_TEST_REQUIRE(task.has_value(), test::why(task));
    BOOST_TEST_REQUIRE(task->address.has_value());
    BOOST_TEST(task->ports[0].host_port == 8080);
    // Two "containers" join the same namespace through its path, as linux.namespaces does.
    Fd first = test::open_netns(task->netns_path);
    Fd second = test::open_netns(task->netns_path);
    test::EchoServer server(first.get(), SOCK_STREAM, 8080);
    BOOST_TEST_REQUIRE(server.ok());
    BOOST_TEST(echo(second.get(), SOCK_STREAM, ip("127.0.0.1"), 8080) == "ping");
    BOOST_TEST(echo(-1, SOCK_STREAM, *task->address, 8080) == "ping");
    BOOST_TEST(mtu_in(first.get(), "eth0") == 1400);
    // No IPv6 address generation in the task (1: IN6_ADDR_GEN_MODE_NONE), so nothing waits on
    // duplicate address detection; no IPv6 at all on the host end (a bridge port), so the
    // host's IPv6 table gets no route per task (not even ff00::/8).
    BOOST_TEST(read_in(first.get(), "/proc/sys/net/ipv6/conf/eth0/addr_gen_mode") == "1");
    char host_end[16];
    std::snprintf(host_end, sizeof host_end, "bv%08x", *task->address);
    auto host_v6 = read_file(std::string("/proc/sys/net/ipv6/conf/") + host_end + "/disable_ipv6");
    BOOST_TEST_REQUIRE(host_v6.has_value(), test::why(host_v6));
    BOOST_TEST(trim(*host_v6) == "1");
    BOOST_TEST(
        test::sh((std::string("! ip -6 route show table all dev ") + host_end + " | grep -q .")
                     .c_str()) == 0);
    // One queue each way, asked for at creation (no RCU grace period to cut them down).
    BOOST_TEST(test::sh((std::string("ip -d link show ") + host_end +
                         " | grep -q 'numtxqueues 1 numrxqueues 1 '")
                            .c_str()) == 0);
    // No router advertisement from a task (NET_RAW) can give this netns an IPv6 route or
    // address through the bridge; without subnet6 the bridge has no IPv6 at all.
    BOOST_TEST(read_in(-1, "/proc/sys/net/ipv6/conf/berth0/accept_ra") == "0");
    BOOST_TEST(read_in(-1, "/proc/sys/net/ipv6/conf/berth0/autoconf") == "0");
    BOOST_TEST(read_in(-1, "/proc/sys/net/ipv6/conf/berth0/disable_ipv6") == "1");
    // Multicast snooping off on the bridge: it made every port's setup walk every port.
    // (/sys shows the root netns's links: ask over netlink, in this netns.)
    BOOST_TEST(test::sh("ip -d link show berth0 | grep -q 'mcast_snooping 0'") == 0);
    auto hosts = read_file(task->files_dir + "/hosts");
    BOOST_TEST_REQUIRE(hosts.has_value());
    BOOST_TEST(hosts->find(net::format_ipv4(*task->address) + "\tweb") != std::string::npos);
    BOOST_TEST(*read_file(task->files_dir + "/hostname") == "web\n");
}

BOOST_FIXTURE_TEST_CASE(mtu_defaults_to_the_default_route_interface, test::FreshHost)
{
    BOOST_TEST_REQUIRE(
        test::sh(
            "ip link add uplink mtu 1420 type veth peer name uplink-peer && ip link set uplink "
            "up && ip addr add 192.0.2.1/24 dev uplink && ip route add "
            "default via 192.0.2.254") == 0);
    auto network = net::Network::open(config());
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto task = network->add_task({"mtu", net::Mode::Bridge, {}, ""});
    BOOST_TEST_REQUIRE(task.has_value(), test::why(task));
    Fd ns = test::open_netns(task->netns_path);
    BOOST_TEST(mtu_in(ns.get(), "eth0") == 1420);
}

BOOST_FIXTURE_TEST_CASE(none_mode_has_only_loopback_and_it_is_up, test::FreshHost)
{
    auto network = net::Network::open(config());
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto task = network->add_task({"quiet", net::Mode::None, {}, ""});
    BOOST_TEST_REQUIRE(task.has_value(), test::why(task));
    BOOST_TEST(!task->address.has_value());
    Fd ns = test::open_netns(task->netns_path);
    BOOST_TEST(links_in(ns.get()) == std::vector<std::string>{"lo"});
    test::EchoServer server(ns.get(), SOCK_STREAM, 7);
    BOOST_TEST_REQUIRE(server.ok());
    BOOST_TEST(echo(ns.get(), SOCK_STREAM, ip("127.0.0.1"), 7) == "ping");
    BOOST_TEST_REQUIRE(network->remove_task("quiet").has_value());
    BOOST_TEST(!path_exists(task->netns_path));
}

BOOST_FIXTURE_TEST_CASE(host_mode_keeps_the_host_netns_and_writes_files, test::FreshHost)
{
    auto network = net::Network::open(config());
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto task = network->add_task({"hosty", net::Mode::Host, {}, ""});
    BOOST_TEST_REQUIRE(task.has_value(), test::why(task));
    BOOST_TEST(task->netns_path.empty());
    BOOST_TEST(path_exists(task->files_dir + "/resolv.conf"));
    BOOST_TEST_REQUIRE(network->remove_task("hosty").has_value());
    BOOST_TEST(!path_exists(task->files_dir));
}

BOOST_FIXTURE_TEST_CASE(state_survives_reopen_and_addresses_are_not_reused_at_once, test::FreshHost)
{
    std::uint32_t first = 0;
    {
        auto network = net::Network::open(config());
        BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
        auto task =
            network->add_task({"keep", net::Mode::Bridge, {mapping(80, net::Protocol::Tcp)}, ""});
        BOOST_TEST_REQUIRE(task.has_value(), test::why(task));
        first = *task->address;
    }
    auto network = net::Network::open(config()); // an agent restart
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto kept = network->find_task("keep");
    BOOST_TEST_REQUIRE(kept.has_value());
    BOOST_TEST(*kept->address == first);
    auto other = network->add_task({"other", net::Mode::Bridge, {}, ""});
    BOOST_TEST_REQUIRE(other.has_value(), test::why(other));
    BOOST_TEST(*other->address != first);
    Fd ns = test::open_netns(kept->netns_path);
    test::EchoServer server(ns.get(), SOCK_STREAM, 80);
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), kept->ports[0].host_port) == "ping");
}

BOOST_FIXTURE_TEST_CASE(a_mapping_bound_to_one_host_ip_answers_only_there, test::FreshHost)
{
    auto network = net::Network::open(config());
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto task = network->add_task({"bound",
                                   net::Mode::Bridge,
                                   {net::PortMapping{80, 0, net::Protocol::Tcp, "127.0.0.1"}},
                                   ""});
    BOOST_TEST_REQUIRE(task.has_value(), test::why(task));
    BOOST_TEST(task->ports[0].host_ip == "127.0.0.1");
    Fd ns = test::open_netns(task->netns_path);
    test::EchoServer server(ns.get(), SOCK_STREAM, 80);
    BOOST_TEST_REQUIRE(server.ok());
    const std::uint16_t port = task->ports[0].host_port;
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), port) == "ping");
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("10.213.7.1"), port) == "");
}

// A UDP client that was already sending to the port before it was mapped has a conntrack
// entry without DNAT; add_task flushes it, so the same 5-tuple reaches the task at once.
BOOST_FIXTURE_TEST_CASE(udp_conntrack_from_before_the_mapping_is_flushed, test::FreshHost)
{
    auto network = net::Network::open(config());
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    Fd client = test::socket_in(-1, SOCK_DGRAM);
    auto local = test::endpoint(INADDR_ANY, 43999);
    BOOST_TEST_REQUIRE(::bind(client.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) ==
                       0);
    timeval timeout{2, 0};
    ::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    auto target = test::endpoint(ip("10.213.7.1"), 44000);
    auto send = [&] {
        return ::sendto(client.get(), "ping", 4, 0, reinterpret_cast<sockaddr*>(&target),
                        sizeof target) == 4;
    };
    BOOST_TEST_REQUIRE(send()); // nobody listens: an un-NATed conntrack entry remains
    auto task = network->add_task(
        {"udp", net::Mode::Bridge, {net::PortMapping{53, 44000, net::Protocol::Udp, ""}}, ""});
    BOOST_TEST_REQUIRE(task.has_value(), test::why(task));
    Fd ns = test::open_netns(task->netns_path);
    test::EchoServer server(ns.get(), SOCK_DGRAM, 53);
    BOOST_TEST_REQUIRE(server.ok());
    BOOST_TEST_REQUIRE(send());
    char buffer[8] = {};
    BOOST_TEST(::recv(client.get(), buffer, sizeof buffer, 0) == 4);
}

namespace {

// IPv6 TCP in a netns (-1: the test's own), on a thread so this one never switches: a listener
// on port, and whether a connection to address:port is accepted within 3 s (the kernel
// completes the handshake for the listener's backlog: traffic went both ways).
Fd listen6_in(int netns_fd, std::uint16_t port)
{
    Fd fd;
    std::thread([&] {
        if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) < 0)
            return;
        fd.reset(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    }).join();
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_any;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 ||
        ::listen(fd.get(), 4) < 0)
        fd.reset();
    return fd;
}

bool connects6(int netns_fd, const net::Ipv6Address& address, std::uint16_t port)
{
    Fd fd;
    std::thread([&] {
        if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) < 0)
            return;
        fd.reset(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    }).join();
    timeval timeout{3, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    std::memcpy(&a.sin6_addr, address.data(), address.size());
    return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

} // namespace

// Dual stack: with Config::subnet6 each task also gets the IPv6 address at its IPv4 offset,
// and IPv6 flows between tasks and between a task and the host over berth's bridge.
BOOST_FIXTURE_TEST_CASE(dual_stack_tasks_talk_ipv6_to_each_other_and_the_host, test::FreshHost)
{
    net::Config c = config();
    c.subnet6 = "fd42:b::/64";
    auto network = net::Network::open(c);
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto a = network->add_task({"a", net::Mode::Bridge, {}, ""});
    auto b = network->add_task({"b", net::Mode::Awsvpc, {}, ""});
    BOOST_TEST_REQUIRE((a && b));
    BOOST_TEST_REQUIRE((a->address6 && b->address6 && a->address && b->address));
    const auto offset = [](std::uint32_t v4) { return "fd42:b::" + std::to_string(v4 & 0xff); };
    const std::string a6 = net::format_ipv6(*a->address6);
    BOOST_TEST(a6 == offset(*a->address)); // .2 -> ::2: same offset, no IPv6 allocation state
    BOOST_TEST(net::format_ipv6(*b->address6) == offset(*b->address));
    Fd a_ns = test::open_netns(a->netns_path);
    Fd b_ns = test::open_netns(b->netns_path);
    Fd in_a = listen6_in(a_ns.get(), 7000);
    Fd in_b = listen6_in(b_ns.get(), 7000);
    Fd in_host = listen6_in(-1, 7000);
    BOOST_TEST_REQUIRE((in_a.valid() && in_b.valid() && in_host.valid()));
    net::Ipv6Address bridge = *a->address6;
    bridge[15] = 1;
    BOOST_TEST(connects6(b_ns.get(), *a->address6, 7000)); // task -> task over the bridge
    BOOST_TEST(connects6(a_ns.get(), bridge, 7000));       // task -> the host's bridge address
    BOOST_TEST(connects6(-1, *b->address6, 7000));         // host -> task
    BOOST_TEST(!connects6(-1, *b->address6, 7001));        // (nothing listens there: refused)
    // The default route goes to the bridge; eth0 needs no link-local address for it.
    const std::string route = "nsenter --net=" + a->netns_path +
                              " ip -6 route show default | grep -q 'via fd42:b::1 dev eth0'";
    BOOST_TEST(test::sh(route.c_str()) == 0);
    // Router advertisements (from another task on the bridge) are taken neither by this netns
    // through the bridge nor by a task's eth0.
    BOOST_TEST(read_in(-1, "/proc/sys/net/ipv6/conf/berth0/accept_ra") == "0");
    BOOST_TEST(read_in(-1, "/proc/sys/net/ipv6/conf/berth0/autoconf") == "0");
    BOOST_TEST(read_in(-1, "/proc/sys/net/ipv6/conf/berth0/disable_ipv6") == "0");
    BOOST_TEST(read_in(a_ns.get(), "/proc/sys/net/ipv6/conf/eth0/accept_ra") == "0");
    BOOST_TEST(read_in(b_ns.get(), "/proc/sys/net/ipv6/conf/eth0/accept_ra") == "0");
    auto hosts = read_file(a->files_dir + "/hosts");
    BOOST_TEST_REQUIRE(hosts.has_value());
    BOOST_TEST(hosts->find(a6 + "\ta\n") != std::string::npos);
    BOOST_TEST(network->destroy_all().has_value());
}

BOOST_AUTO_TEST_SUITE_END()
