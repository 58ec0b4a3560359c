// recover(): leftovers of a crashed agent are removed, live tasks keep working, and berth's
// nftables table is rebuilt from the state file. Each case in a fresh "host" netns.
#define BOOST_TEST_MODULE net_recover
#include <nlohmann/json.hpp>
#include "base/files.hpp"
#include "tests/root/net_support.hpp"

namespace utf = boost::unit_test;
using namespace berth;
using test::echo;
using test::ip;

namespace {

net::PortMapping tcp(std::uint16_t container)
{
    return net::PortMapping{container, 0, net::Protocol::Tcp, ""};
}

bool contains(const std::vector<std::string>& list, const std::string& value)
{
    return std::find(list.begin(), list.end(), value) != list.end();
}

} // namespace

BOOST_AUTO_TEST_SUITE(recover, *utf::label("root") * utf::precondition(test::is_root))

BOOST_FIXTURE_TEST_CASE(dead_tasks_and_orphans_are_removed_live_ones_still_answer, test::FreshHost)
{
    net::TaskInfo live;
    net::TaskInfo dead;
    net::TaskInfo lost;
    {
        auto network = net::Network::open(config());
        BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
        auto a = network->add_task({"live", net::Mode::Bridge, {tcp(80)}, ""});
        auto b = network->add_task({"dead", net::Mode::Bridge, {tcp(80)}, ""});
        auto c = network->add_task({"lost", net::Mode::Awsvpc, {}, ""});
        BOOST_TEST_REQUIRE((a && b && c));
        live = *a;
        dead = *b;
        lost = *c;
    } // the agent "crashes": nothing is torn down
    // A crash after the kernel work but before the state write: "lost" is in the kernel only.
    auto text = read_file(run_dir + "/state.json");
    BOOST_TEST_REQUIRE(text.has_value());
    auto state = nlohmann::json::parse(*text);
    state["tasks"].erase("lost");
    BOOST_TEST_REQUIRE(write_file_atomic(run_dir + "/state.json", state.dump()).has_value());
    // A crash between the netns file and its bind mount.
    Fd stray(::open((run_dir + "/netns/half").c_str(), O_CREAT | O_RDONLY | O_CLOEXEC, 0444));
    // A firewall reload flushed everything.
    BOOST_TEST_REQUIRE(test::sh("nft flush ruleset") == 0);

    auto network = net::Network::open(config());
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto report = network->recover({"live"});
    BOOST_TEST_REQUIRE(report.has_value(), test::why(report));
    BOOST_TEST(report->removed_tasks == std::vector<std::string>{"dead"});
    BOOST_TEST(contains(report->removed_netns, "lost"));
    BOOST_TEST(contains(report->removed_netns, "half"));
    BOOST_TEST(contains(
        report->removed_links, "bv" + [&] {
            char hex[9];
            std::snprintf(hex, sizeof hex, "%08x", *lost.address);
            return std::string(hex);
        }()));
    BOOST_TEST(!path_exists(dead.netns_path));
    BOOST_TEST(!path_exists(lost.netns_path));
    BOOST_TEST(network->tasks().size() == 1u);

    Fd live_ns = test::open_netns(live.netns_path);
    Fd dead_ns;
    test::EchoServer server(live_ns.get(), SOCK_STREAM, 80);
    BOOST_TEST_REQUIRE(server.ok());
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), live.ports[0].host_port) == "ping");
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), dead.ports[0].host_port) == "");
    // The dead task's address and port are free again.
    auto again = network->add_task({"again", net::Mode::Bridge, {tcp(80)}, ""});
    BOOST_TEST_REQUIRE(again.has_value(), test::why(again));
}

BOOST_FIXTURE_TEST_CASE(remove_after_a_firewall_flush_succeeds_and_restores_the_table,
                        test::FreshHost)
{
    auto network = net::Network::open(config());
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    auto a = network->add_task({"a", net::Mode::Bridge, {tcp(80)}, ""});
    auto b = network->add_task({"b", net::Mode::Bridge, {tcp(80)}, ""});
    BOOST_TEST_REQUIRE((a && b));
    BOOST_TEST_REQUIRE(test::sh("nft flush ruleset") == 0);
    auto removed = network->remove_task("a");
    BOOST_TEST_REQUIRE(removed.has_value(), test::why(removed));
    Fd b_ns = test::open_netns(b->netns_path);
    test::EchoServer server(b_ns.get(), SOCK_STREAM, 80);
    BOOST_TEST(echo(-1, SOCK_STREAM, ip("127.0.0.1"), b->ports[0].host_port) == "ping");
}

BOOST_FIXTURE_TEST_CASE(corrupt_state_file_is_a_clear_error, test::FreshHost)
{
    BOOST_TEST_REQUIRE(write_file_atomic(run_dir + "/state.json", "{\"tasks\": 3}").has_value());
    auto network = net::Network::open(config());
    BOOST_TEST_REQUIRE(!network.has_value());
    BOOST_TEST(network.error().code == EINVAL);
    BOOST_TEST(network.error().message().find("tasks") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(destroy_all_leaves_no_bridge_table_or_netns, test::FreshHost)
{
    auto network = net::Network::open(config());
    BOOST_TEST_REQUIRE(network.has_value(), test::why(network));
    BOOST_TEST_REQUIRE(network->add_task({"t", net::Mode::Bridge, {tcp(80)}, ""}).has_value());
    BOOST_TEST_REQUIRE(network->destroy_all().has_value());
    BOOST_TEST(test::sh("ip link show berth0 >/dev/null 2>&1") != 0);
    BOOST_TEST(test::sh("nft list table ip berth >/dev/null 2>&1") != 0);
    BOOST_TEST(!path_exists(run_dir + "/netns/t"));
}

BOOST_AUTO_TEST_SUITE_END()
