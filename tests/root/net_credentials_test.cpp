// 169.254.170.2: every task reaches the agent's credentials endpoint there (as on ECS), DNATed
// by berth's table to the configured host listener; a loopback listener works through
// route_localnet on berth's bridge. Each case in a fresh "host" netns; the listener is a real
// socket in that netns.
#define BOOST_TEST_MODULE net_credentials
#include "tests/root/net_support.hpp"

namespace utf = boost::unit_test;
using namespace berth;
using test::echo;
using test::ip;

namespace {

constexpr std::uint16_t agent_port = 51679;
constexpr std::uint32_t link_local = net::credentials_address; // 169.254.170.2

struct WithEndpoint : test::FreshHost {
    net::Config with_endpoint(const std::string& endpoint) const
    {
        net::Config c = config();
        c.credentials_endpoint = endpoint;
        return c;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(credentials, *utf::label("root") * utf::precondition(test::is_root))

BOOST_FIXTURE_TEST_CASE(bridge_and_awsvpc_tasks_reach_a_loopback_listener_at_169_254_170_2,
                        WithEndpoint)
{
    auto network = net::Network::open(with_endpoint("127.0.0.1:51679"));
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto bridge = network->add_task({"b", net::Mode::Bridge, {}, ""});
    auto awsvpc = network->add_task({"v", net::Mode::Awsvpc, {}, ""});
    BOOST_TEST_REQUIRE((bridge && awsvpc));
    test::EchoServer agent(-1, SOCK_STREAM, agent_port);
    BOOST_TEST_REQUIRE(agent.ok());
    Fd b_ns = test::open_netns(bridge->netns_path);
    Fd v_ns = test::open_netns(awsvpc->netns_path);
    BOOST_TEST(echo(b_ns.get(), SOCK_STREAM, link_local, 80) == "ping");
    BOOST_TEST(echo(v_ns.get(), SOCK_STREAM, link_local, 80) == "ping");
    // Only port 80 is redirected, and 127.0.0.1 itself stays unreachable from a task.
    BOOST_TEST(echo(b_ns.get(), SOCK_STREAM, link_local, agent_port) == "");
    BOOST_TEST(echo(b_ns.get(), SOCK_STREAM, ip("127.0.0.1"), agent_port) == "");
    BOOST_TEST(network->destroy_all().has_value());
}

BOOST_FIXTURE_TEST_CASE(a_listener_on_the_bridge_address_works_too, WithEndpoint)
{
    auto network = net::Network::open(with_endpoint("10.213.7.1:8080"));
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto task = network->add_task({"b", net::Mode::Bridge, {}, ""});
    BOOST_TEST_REQUIRE(task.has_value(), test::why(task));
    test::EchoServer agent(-1, SOCK_STREAM, 8080);
    BOOST_TEST_REQUIRE(agent.ok());
    Fd ns = test::open_netns(task->netns_path);
    BOOST_TEST(echo(ns.get(), SOCK_STREAM, link_local, 80) == "ping");
    BOOST_TEST(network->destroy_all().has_value());
}

BOOST_FIXTURE_TEST_CASE(host_mode_tasks_reach_it_through_the_output_hook, WithEndpoint)
{
    // A host has a route for 169.254.170.2 (its default route); this test's host gets one.
    BOOST_TEST_REQUIRE(
        test::sh("ip link add uplink type veth peer name uplink2 && ip link set uplink up && "
                 "ip route add default dev uplink") == 0);
    auto network = net::Network::open(with_endpoint("127.0.0.1:51679"));
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto task = network->add_task({"h", net::Mode::Host, {}, ""});
    BOOST_TEST_REQUIRE(task.has_value(), test::why(task));
    test::EchoServer agent(-1, SOCK_STREAM, agent_port);
    BOOST_TEST_REQUIRE(agent.ok());
    BOOST_TEST(echo(-1, SOCK_STREAM, link_local, 80) == "ping");
    BOOST_TEST(network->destroy_all().has_value());
}

BOOST_FIXTURE_TEST_CASE(without_an_endpoint_nothing_is_redirected, WithEndpoint)
{
    auto network = net::Network::open(config());
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto task = network->add_task({"b", net::Mode::Bridge, {}, ""});
    BOOST_TEST_REQUIRE(task.has_value(), test::why(task));
    test::EchoServer agent(-1, SOCK_STREAM, agent_port);
    BOOST_TEST_REQUIRE(agent.ok());
    Fd ns = test::open_netns(task->netns_path);
    BOOST_TEST(echo(ns.get(), SOCK_STREAM, link_local, 80) == "");
    BOOST_TEST(network->destroy_all().has_value());
}

BOOST_FIXTURE_TEST_CASE(a_bad_endpoint_is_einval_naming_the_key, WithEndpoint)
{
    for (const char* bad : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "localhost:80",
                            "127.0.0.1:08", ":80", "127.0.0.1:"}) {
        auto network = net::Network::open(with_endpoint(bad));
        BOOST_TEST_REQUIRE(!network.has_value(), bad);
        BOOST_TEST(network.error().code == EINVAL);
        BOOST_TEST(network.error().message().find("credentials_endpoint") != std::string::npos,
                   network.error().message());
        BOOST_TEST(network.error().message().find(bad) != std::string::npos,
                   network.error().message());
    }
    // Nothing was made: no bridge, no table.
    BOOST_TEST(test::sh("ip link show berth0 >/dev/null 2>&1") != 0);
    BOOST_TEST(test::sh("nft list table ip berth >/dev/null 2>&1") != 0);
}

BOOST_AUTO_TEST_SUITE_END()
