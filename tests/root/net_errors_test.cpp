// Bad input to net/: each is a clear error for that task, nothing half-made is left behind and
// other tasks keep working. Every case runs in a fresh "host" netns (net_support.hpp).
#define BOOST_TEST_MODULE net_errors
#include <filesystem>
#include "base/files.hpp"
#include "tests/root/net_support.hpp"

namespace utf = boost::unit_test;
using namespace berth;
using test::echo;
using test::ip;

namespace {

net::PortMapping tcp(std::uint16_t container, std::uint16_t host = 0)
{
    return net::PortMapping{container, host, net::Protocol::Tcp, ""};
}

std::size_t entries(const std::string& dir)
{
    std::error_code ec;
    auto it = std::filesystem::directory_iterator(dir, ec);
    return ec ? 0 : static_cast<std::size_t>(std::distance(it, {}));
}

// The other task still answers on its mapped port after the failure.
struct WithOneTask : test::FreshHost {
    std::optional<net::Network> network;
    net::TaskInfo good;
    Fd good_ns;
    std::optional<test::EchoServer> server;
    WithOneTask() { start(config()); }
    void start(net::Config c)
    {
        auto opened = net::Network::open(std::move(c));
        BOOST_TEST_REQUIRE(opened.has_value(), test::why(opened));
        network.emplace(std::move(*opened));
        auto task = network->add_task({"good", net::Mode::Bridge, {tcp(80)}, ""});
        BOOST_TEST_REQUIRE(task.has_value(), test::why(task));
        good = *task;
        good_ns = test::open_netns(good.netns_path);
        server.emplace(good_ns.get(), SOCK_STREAM, 80);
    }
    void expect_only_the_good_task()
    {
        BOOST_TEST(network->tasks().size() == 1u);
        BOOST_TEST(entries(run_dir + "/netns") == 1u);
        BOOST_TEST(entries(run_dir + "/files") == 1u);
        BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), good.ports[0].host_port) == "ping");
        auto state = read_file(run_dir + "/state.json");
        BOOST_TEST_REQUIRE(state.has_value());
        BOOST_TEST(state->find("\"bad\"") == std::string::npos);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(bad_input, *utf::label("root") * utf::precondition(test::is_root))

BOOST_FIXTURE_TEST_CASE(static_port_in_use_is_eaddrinuse_and_leaves_nothing, WithOneTask)
{
    Fd taken = test::socket_in(-1, SOCK_STREAM);
    auto a = test::endpoint(INADDR_ANY, 41000);
    BOOST_TEST_REQUIRE(::bind(taken.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    auto bad = network->add_task({"bad", net::Mode::Bridge, {tcp(80, 41000)}, ""});
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().code == EADDRINUSE);
    BOOST_TEST(bad.error().message().find("41000") != std::string::npos, bad.error().message());
    expect_only_the_good_task();
}

BOOST_FIXTURE_TEST_CASE(static_port_mapped_by_another_task_is_eaddrinuse, WithOneTask)
{
    auto bad =
        network->add_task({"bad", net::Mode::Bridge, {tcp(80, good.ports[0].host_port)}, ""});
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().code == EADDRINUSE);
    expect_only_the_good_task();
}

BOOST_FIXTURE_TEST_CASE(reserved_host_port_is_refused, WithOneTask)
{
    auto bad = network->add_task({"bad", net::Mode::Bridge, {tcp(80, 22)}, ""});
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().code == EINVAL);
    BOOST_TEST(bad.error().message().find("reserved") != std::string::npos);
    expect_only_the_good_task();
}

struct SmallRange : test::FreshHost {
    std::optional<net::Network> network;
    SmallRange()
    {
        net::Config c = config();
        c.port_range = net::PortRange{42000, 42001};
        auto opened = net::Network::open(std::move(c));
        BOOST_TEST_REQUIRE(opened.has_value(), test::why(opened));
        network.emplace(std::move(*opened));
        BOOST_TEST_REQUIRE(
            network->add_task({"good", net::Mode::Bridge, {tcp(80)}, ""}).has_value());
    }
};

BOOST_FIXTURE_TEST_CASE(exhausted_port_range_is_enospc, SmallRange)
{
    auto bad = network->add_task({"bad", net::Mode::Bridge, {tcp(1), tcp(2)}, ""});
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().code == ENOSPC, bad.error().message());
    BOOST_TEST(network->tasks().size() == 1u);
    // The range's last port is still free: the failed task held it only while it tried.
    BOOST_TEST(network->add_task({"fits", net::Mode::Bridge, {tcp(1)}, ""}).has_value());
}

BOOST_FIXTURE_TEST_CASE(exhausted_subnet_is_enospc, test::FreshHost)
{
    auto network = net::Network::open(config("10.213.9.0/30")); // one task address
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    BOOST_TEST_REQUIRE(network->add_task({"one", net::Mode::Awsvpc, {}, ""}).has_value());
    auto bad = network->add_task({"bad", net::Mode::Awsvpc, {}, ""});
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().code == ENOSPC);
    BOOST_TEST(bad.error().message().find("exhausted") != std::string::npos);
    BOOST_TEST(network->tasks().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(bad_cidr_and_protocol_and_task_id_are_einval, WithOneTask)
{
    auto opened = net::Network::open(config("10.213.300.0/24"));
    BOOST_TEST_REQUIRE(!opened.has_value());
    BOOST_TEST(opened.error().message().find("10.213.300.0/24") != std::string::npos);
    BOOST_TEST(!net::parse_cidr("10.0.0.0/33").has_value());
    auto protocol = net::parse_protocol("sctp");
    BOOST_TEST_REQUIRE(!protocol.has_value());
    BOOST_TEST(protocol.error().message().find("sctp") != std::string::npos);
    auto id = network->add_task({"../bad", net::Mode::Bridge, {}, ""});
    BOOST_TEST_REQUIRE(!id.has_value());
    BOOST_TEST(id.error().code == EINVAL);
    auto twice = network->add_task({"good", net::Mode::Bridge, {}, ""});
    BOOST_TEST_REQUIRE(!twice.has_value());
    BOOST_TEST(twice.error().code == EEXIST);
    auto none_ports = network->add_task({"bad", net::Mode::None, {tcp(80)}, ""});
    BOOST_TEST_REQUIRE(!none_ports.has_value());
    auto vpc = network->add_task({"bad", net::Mode::Awsvpc, {tcp(80, 81)}, ""});
    BOOST_TEST_REQUIRE(!vpc.has_value());
    // Unmapped modes record their ports as given: a hostIp that is no address is refused there
    // too (it would make the state file unreadable on the next open).
    for (const auto mode : {net::Mode::Awsvpc, net::Mode::Host}) {
        auto bad_ip = network->add_task(
            {"bad", mode, {net::PortMapping{80, 0, net::Protocol::Tcp, "not-an-ip"}}, ""});
        BOOST_TEST_REQUIRE(!bad_ip.has_value());
        BOOST_TEST(bad_ip.error().code == EINVAL);
        BOOST_TEST(bad_ip.error().message().find("not-an-ip") != std::string::npos);
    }
    BOOST_TEST(network->remove_task("nope").error().code == ENOENT);
    expect_only_the_good_task();
}

BOOST_FIXTURE_TEST_CASE(a_bad_or_too_small_ipv6_subnet_is_einval_naming_it, test::FreshHost)
{
    // The last: a /120 has 8 host bits, the IPv4 /16 16, so some tasks would have no twin.
    for (const char* bad :
         {"fd42:b::", "fd42:zz::/64", "fd42:b::/129", "10.0.0.0/8", "fd42:b::/120"}) {
        net::Config c = config("10.213.0.0/16");
        c.subnet6 = bad;
        auto opened = net::Network::open(c);
        BOOST_TEST_REQUIRE(!opened.has_value(), bad);
        BOOST_TEST(opened.error().code == EINVAL);
        BOOST_TEST(opened.error().message().find(c.subnet6) != std::string::npos,
                   opened.error().message());
    }
    BOOST_TEST(test::sh("! ip link show berth0 2>/dev/null") == 0); // nothing half made
}

BOOST_AUTO_TEST_SUITE_END()
