// berth's table next to a host firewall that sets a DROP policy on the filter FORWARD chain, as
// Docker does (iptables-nft: `table ip filter`, chain FORWARD). In nftables a packet dropped by
// any base chain is dropped, so berth cannot accept over it from its own table: what the host
// must allow is written here and in net/README.md. Each case in a fresh "host" netns.
#define BOOST_TEST_MODULE net_firewall
#include "tests/root/net_support.hpp"

namespace utf = boost::unit_test;
using namespace berth;
using test::echo;
using test::ip;

BOOST_AUTO_TEST_SUITE(firewall, *utf::label("root") * utf::precondition(test::is_root))

BOOST_FIXTURE_TEST_CASE(forward_drop_policy_needs_the_bridge_allowed_and_nothing_else,
                        test::FreshHost)
{
    auto network = net::Network::open(config());
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto a = network->add_task(
        {"a", net::Mode::Bridge, {net::PortMapping{80, 0, net::Protocol::Tcp, ""}}, ""});
    auto b = network->add_task({"b", net::Mode::Bridge, {}, ""});
    BOOST_TEST_REQUIRE((a && b));
    Fd a_ns = test::open_netns(a->netns_path);
    Fd b_ns = test::open_netns(b->netns_path);
    test::EchoServer server(a_ns.get(), SOCK_STREAM, 80);
    BOOST_TEST_REQUIRE(server.ok());
    const std::uint16_t port = a->ports[0].host_port;
    const std::uint32_t gateway = ip("10.213.7.1");

    // Docker's FORWARD policy, in this test's own netns.
    BOOST_TEST_REQUIRE(test::sh("nft 'add table ip filter'; nft 'add chain ip filter FORWARD "
                                "{ type filter hook forward priority 0; policy drop; }'") == 0);
    // The host itself and localhost still reach mapped ports: that path is never forwarded.
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), port) == "ping");
    BOOST_TEST(echo(-1, SOCK_STREAM, gateway, port) == "ping");
    // A task reaching a mapped port through the host is forwarded, and so dropped.
    BOOST_TEST(echo(b_ns.get(), SOCK_STREAM, gateway, port) == "");

    // What the host must allow (in Docker's DOCKER-USER chain, or firewalld's policy): traffic
    // in and out of berth's bridge. Then everything works again.
    BOOST_TEST_REQUIRE(test::sh("nft 'insert rule ip filter FORWARD iifname \"berth0\" "
                                "accept'; nft 'insert rule ip filter FORWARD oifname "
                                "\"berth0\" accept'") == 0);
    BOOST_TEST(echo(b_ns.get(), SOCK_STREAM, gateway, port) == "ping");
    BOOST_TEST(echo(a_ns.get(), SOCK_STREAM, gateway, port) == "ping");
}

BOOST_AUTO_TEST_SUITE_END()
