// berth's table next to a host firewall that sets a DROP policy on the filter FORWARD chain, as
// Docker does (iptables-nft: `table ip filter`, chain FORWARD). In nftables a packet dropped by
// any base chain is dropped, so berth cannot accept over it from its own table: what the host
// must allow is written here and in net/README.md. Each case in a fresh "host" netns.
#define BOOST_TEST_MODULE net_firewall
#include <optional>
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

// Docker's own setup, written by the iptables binary Docker uses: iptables-nft (Debian's
// default, `table ip filter` in nftables) or iptables-legacy (x_tables, a separate code path
// in the kernel). The fix net/README.md gives is two DOCKER-USER rules; the credentials
// endpoint needs none (after its DNAT the packet is input, not forwarded).
void docker_forward_drop_then_allow(const test::FreshHost& host, const std::string& iptables)
{
    net::Config c = host.config();
    c.credentials_endpoint = "127.0.0.1:51679";
    auto network = net::Network::open(c);
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto a = network->add_task(
        {"a", net::Mode::Bridge, {net::PortMapping{80, 0, net::Protocol::Tcp, ""}}, ""});
    auto b = network->add_task({"b", net::Mode::Awsvpc, {}, ""});
    BOOST_TEST_REQUIRE((a && b));
    Fd a_ns = test::open_netns(a->netns_path);
    Fd b_ns = test::open_netns(b->netns_path);
    test::EchoServer server(a_ns.get(), SOCK_STREAM, 80);
    test::EchoServer agent(-1, SOCK_STREAM, 51679);
    BOOST_TEST_REQUIRE((server.ok() && agent.ok()));
    const std::uint16_t port = a->ports[0].host_port;
    const std::uint32_t gateway = ip("10.213.7.1");
    const std::string docker = iptables + " -P FORWARD DROP && " + iptables +
                               " -N DOCKER-USER && " + iptables + " -I FORWARD -j DOCKER-USER";
    BOOST_TEST_REQUIRE(test::sh(docker.c_str()) == 0);
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), port) == "ping");
    BOOST_TEST(echo(b_ns.get(), SOCK_STREAM, net::credentials_address, 80) == "ping");
    BOOST_TEST(echo(b_ns.get(), SOCK_STREAM, gateway, port) == "");
    BOOST_TEST(echo(a_ns.get(), SOCK_STREAM, gateway, port) == "");
    const std::string allow = iptables + " -I DOCKER-USER -i berth0 -j ACCEPT && " + iptables +
                              " -I DOCKER-USER -o berth0 -j ACCEPT";
    BOOST_TEST_REQUIRE(test::sh(allow.c_str()) == 0);
    BOOST_TEST(echo(b_ns.get(), SOCK_STREAM, gateway, port) == "ping");
    BOOST_TEST(echo(a_ns.get(), SOCK_STREAM, gateway, port) == "ping");
    BOOST_TEST(echo(b_ns.get(), SOCK_STREAM, a->address.value_or(0), 80) == "ping");
    BOOST_TEST(network->destroy_all().has_value());
}

BOOST_FIXTURE_TEST_CASE(docker_user_accept_rules_suffice_with_iptables_nft, test::FreshHost)
{
    docker_forward_drop_then_allow(*this, "iptables-nft");
}

BOOST_FIXTURE_TEST_CASE(docker_user_accept_rules_suffice_with_iptables_legacy, test::FreshHost)
{
    docker_forward_drop_then_allow(*this, "iptables-legacy");
}

// A firewall reload or `nft flush ruleset` takes berth's table with it; check_and_repair()
// notices (the ruleset generation moved without berth) and rebuilds it from the state.
struct Mapped : test::FreshHost {
    std::optional<net::Network> network;
    net::TaskInfo task;
    Fd task_ns;
    Mapped()
    {
        net::Config c = config();
        c.credentials_endpoint = "127.0.0.1:51679";
        auto opened = net::Network::open(c);
        BOOST_TEST_REQUIRE(opened.has_value(), test::why(opened));
        network.emplace(std::move(*opened));
        auto added = network->add_task(
            {"a", net::Mode::Bridge, {net::PortMapping{80, 0, net::Protocol::Tcp, ""}}, ""});
        BOOST_TEST_REQUIRE(added.has_value(), test::why(added));
        task = *added;
        task_ns = test::open_netns(task.netns_path);
    }
    ~Mapped() { (void)network->destroy_all(); }
    std::uint16_t port() const { return task.ports[0].host_port; }
    bool repaired()
    {
        auto r = network->check_and_repair();
        BOOST_TEST_REQUIRE(r.has_value(), test::why(r));
        return *r;
    }
};

BOOST_FIXTURE_TEST_CASE(nothing_to_repair_after_berths_own_changes, Mapped)
{
    BOOST_TEST(!repaired());
    auto b = network->add_task({"b", net::Mode::Bridge, {}, ""});
    BOOST_TEST_REQUIRE(b.has_value(), test::why(b));
    BOOST_TEST(network->remove_task("b").has_value());
    BOOST_TEST(!repaired());
    BOOST_TEST(!repaired());
}

BOOST_FIXTURE_TEST_CASE(a_flushed_ruleset_is_detected_and_restored, Mapped)
{
    test::EchoServer server(task_ns.get(), SOCK_STREAM, 80);
    test::EchoServer agent(-1, SOCK_STREAM, 51679);
    BOOST_TEST_REQUIRE((server.ok() && agent.ok()));
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), port()) == "ping");
    BOOST_TEST_REQUIRE(test::sh("nft flush ruleset") == 0);
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), port()) == "");
    BOOST_TEST(repaired());
    BOOST_TEST(!repaired());
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), port()) == "ping");
    BOOST_TEST(echo(task_ns.get(), SOCK_STREAM, net::credentials_address, 80) == "ping");
}

BOOST_FIXTURE_TEST_CASE(a_flushed_chain_or_deleted_element_is_restored, Mapped)
{
    test::EchoServer server(task_ns.get(), SOCK_STREAM, 80);
    BOOST_TEST_REQUIRE(server.ok());
    BOOST_TEST_REQUIRE(test::sh("nft flush chain ip berth output") == 0);
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), port()) == "");
    BOOST_TEST(repaired());
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), port()) == "ping");
    BOOST_TEST_REQUIRE(test::sh("nft flush map ip berth dnat_any") == 0);
    BOOST_TEST(repaired());
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), port()) == "ping");
}

BOOST_FIXTURE_TEST_CASE(another_programs_change_leaves_berth_working_after_a_rebuild, Mapped)
{
    test::EchoServer server(task_ns.get(), SOCK_STREAM, 80);
    BOOST_TEST_REQUIRE(server.ok());
    // Someone else's table (Docker, firewalld): berth cannot tell it harmless cheaply, so it
    // rebuilds its own (atomic: established connections keep their NAT).
    BOOST_TEST_REQUIRE(test::sh("nft add table inet someone_else") == 0);
    BOOST_TEST(repaired());
    BOOST_TEST(!repaired());
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), port()) == "ping");
    BOOST_TEST(test::sh("nft list table inet someone_else >/dev/null") == 0);
}

// The event-driven path: a RulesetWatch turns readable on any nftables commit in its netns, so
// the agent repairs at once instead of at its next poll.
bool readable(const net::RulesetWatch& watch, int timeout_ms)
{
    pollfd p{watch.fd(), POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

bool drained(net::RulesetWatch& watch)
{
    auto r = watch.drain();
    BOOST_TEST_REQUIRE(r.has_value(), test::why(r));
    return *r;
}

BOOST_FIXTURE_TEST_CASE(a_ruleset_watch_wakes_on_any_nftables_commit_and_drains_to_quiet,
                        test::FreshHost)
{
    auto watch = net::RulesetWatch::open();
    BOOST_TEST_REQUIRE(watch.has_value(), test::why(watch));
    BOOST_TEST(!drained(*watch));
    BOOST_TEST(!readable(*watch, 0));
    BOOST_TEST_REQUIRE(test::sh("nft add table inet someone_else") == 0);
    BOOST_TEST(readable(*watch, 2000));
    BOOST_TEST(drained(*watch));
    BOOST_TEST(!readable(*watch, 0));
    BOOST_TEST(!drained(*watch));
    // iptables-nft commits through nftables too (Docker, firewalld's iptables backend).
    BOOST_TEST_REQUIRE(test::sh("iptables-nft -P FORWARD DROP") == 0);
    BOOST_TEST(readable(*watch, 2000));
    BOOST_TEST(drained(*watch));
}

BOOST_FIXTURE_TEST_CASE(a_flushed_ruleset_wakes_the_watch_and_is_repaired_on_the_wake_up, Mapped)
{
    test::EchoServer server(task_ns.get(), SOCK_STREAM, 80);
    BOOST_TEST_REQUIRE(server.ok());
    auto watch = net::RulesetWatch::open();
    BOOST_TEST_REQUIRE(watch.has_value(), test::why(watch));
    BOOST_TEST_REQUIRE(test::sh("nft flush ruleset") == 0);
    BOOST_TEST_REQUIRE(readable(*watch, 2000));
    BOOST_TEST(drained(*watch));
    BOOST_TEST(repaired());
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), port()) == "ping");
    // berth's own rebuild and task changes wake the watch as well; check_and_repair() then
    // finds nothing to do (one round trip), so the wake-ups never turn into a rebuild loop.
    BOOST_TEST(readable(*watch, 2000));
    BOOST_TEST(drained(*watch));
    BOOST_TEST(!repaired());
    auto b = network->add_task(
        {"b", net::Mode::Bridge, {net::PortMapping{80, 0, net::Protocol::Tcp, ""}}, ""});
    BOOST_TEST_REQUIRE(b.has_value(), test::why(b));
    BOOST_TEST(drained(*watch));
    BOOST_TEST(!repaired());
}

BOOST_FIXTURE_TEST_CASE(a_ruleset_watch_ignores_other_network_namespaces, Mapped)
{
    auto watch = net::RulesetWatch::open();
    BOOST_TEST_REQUIRE(watch.has_value(), test::why(watch));
    // A task's netns (made by this test) has its own ruleset: changing it is no reload here.
    const std::string inside =
        "nsenter --net=" + task.netns_path + " nft add table inet inside_the_task";
    BOOST_TEST_REQUIRE(test::sh(inside.c_str()) == 0);
    BOOST_TEST(!readable(*watch, 200));
    BOOST_TEST(!drained(*watch));
    BOOST_TEST(!repaired());
}

BOOST_AUTO_TEST_SUITE_END()
