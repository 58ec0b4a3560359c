// net/ pure parts: CIDR and address parsing, task ids, state.json, resolv.conf and hosts.
#define BOOST_TEST_MODULE net
#include <boost/test/unit_test.hpp>
#include "net/internal.hpp"
#include "net/net.hpp"

using namespace berth;

BOOST_AUTO_TEST_SUITE(parsing)

BOOST_AUTO_TEST_CASE(cidr_and_addresses_parse_strictly)
{
    auto cidr = net::parse_cidr("10.213.0.0/16");
    BOOST_TEST_REQUIRE(cidr.has_value());
    BOOST_TEST(cidr->address == 0x0ad50000u);
    BOOST_TEST(int{cidr->prefix} == 16);
    for (const char* bad : {"10.213.0.0", "10.213.0.0/33", "10.213.0/16", "10.213.0.256/8",
                            "010.1.1.1/8", "1.2.3.4/08", "1.2.3.4/", " 1.2.3.4/8", "a.b.c.d/1"}) {
        auto r = net::parse_cidr(bad);
        BOOST_TEST_REQUIRE(!r.has_value(), bad);
        BOOST_TEST(r.error().code == EINVAL);
        BOOST_TEST(r.error().message().find(bad) != std::string::npos, r.error().message());
    }
    BOOST_TEST(net::format_ipv4(0x7f000001u) == "127.0.0.1");
}

// subnet6 goes on the bridge in the host netns: no ::/0-style on-link default, no special range.
BOOST_AUTO_TEST_CASE(ipv6_subnets_are_bounded_and_not_special_ranges)
{
    for (const char* good : {"fd42:b::/64", "2001:db8::/48", "fd42:b::/120"}) {
        auto r = net::parse_subnet6(good);
        BOOST_TEST(r.has_value(), good << ": " << (r ? "" : r.error().message()));
    }
    for (const char* bad :
         {"::/0", "fd42:b::/47", "fd42:b::/121", "fd42:b::/128", "::1/120", "::/64",
          "::ffff:10.0.0.0/120", "fe80::/64", "febf::/64", "ff02::/64", "fd42:b::", "x/64"}) {
        auto r = net::parse_subnet6(bad);
        BOOST_TEST_REQUIRE(!r.has_value(), bad);
        BOOST_TEST(r.error().code == EINVAL);
        BOOST_TEST(r.error().message().find(bad) != std::string::npos, r.error().message());
    }
}

BOOST_AUTO_TEST_CASE(endpoints_need_an_ipv4_address_and_a_port_from_1_to_65535)
{
    auto endpoint = net::parse_endpoint("127.0.0.1:51679");
    BOOST_TEST_REQUIRE(endpoint.has_value());
    BOOST_TEST(endpoint->address == 0x7f000001u);
    BOOST_TEST(endpoint->port == 51679);
    for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                            "127.0.0.1:080", "127.0.0.1:+80", ":80", "localhost:80", "[::1]:80"}) {
        auto r = net::parse_endpoint(bad);
        BOOST_TEST_REQUIRE(!r.has_value(), bad);
        BOOST_TEST(r.error().code == EINVAL);
        BOOST_TEST(r.error().message().find(bad) != std::string::npos, r.error().message());
    }
}

BOOST_AUTO_TEST_CASE(only_tcp_and_udp_and_the_four_modes_are_accepted)
{
    BOOST_TEST(net::parse_protocol("udp").has_value());
    auto sctp = net::parse_protocol("sctp");
    BOOST_TEST_REQUIRE(!sctp.has_value());
    BOOST_TEST(sctp.error().message() == "port mapping protocol 'sctp': must be tcp or udp");
    BOOST_TEST(net::parse_mode("awsvpc").has_value());
    BOOST_TEST(!net::parse_mode("nat").has_value());
}

BOOST_AUTO_TEST_CASE(task_ids_that_could_escape_the_run_dir_are_refused)
{
    BOOST_TEST(net::check_task_id("3f2a-b.c_d").has_value());
    for (const char* bad : {"", ".", "..", "a/b", "a b", "a\nb"})
        BOOST_TEST(!net::check_task_id(bad).has_value(), bad);
    BOOST_TEST(net::veth_name(0x0ad50702u) == "bv0ad50702");
}

BOOST_AUTO_TEST_CASE(state_round_trips_and_bad_fields_are_named)
{
    net::StateFile state;
    state.tasks["a"] = {
        "a",
        net::Mode::Bridge,
        0x0ad50002u,
        {{80, 61000, net::Protocol::Tcp, ""}, {53, 61001, net::Protocol::Udp, "127.0.0.1"}}};
    auto again = net::parse_state(net::serialize_state(state));
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST(net::serialize_state(*again) == net::serialize_state(state));
    auto bad = net::parse_state(R"({"tasks":{"a":{"mode":"bridge","ports":[{"container_port":80,
        "host_port":70000,"protocol":"tcp"}]}}})");
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().message().find("ports[0]") != std::string::npos, bad.error().message());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(task_files)

BOOST_AUTO_TEST_CASE(systemd_resolved_stub_is_replaced_by_its_upstream_servers)
{
    net::HostFiles host{"nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n",
                        "nameserver 192.0.2.53\nsearch lan\n", ""};
    BOOST_TEST(net::task_resolv_conf(net::Mode::Bridge, host) ==
               "nameserver 192.0.2.53\nsearch lan\n");
    BOOST_TEST(net::task_resolv_conf(net::Mode::Host, host) == host.resolv_conf);
    host.upstream.reset(); // no resolved upstream file: loopback servers are dropped
    BOOST_TEST(net::task_resolv_conf(net::Mode::Awsvpc, host) ==
               "options edns0 trust-ad\nsearch lan\n");
}

BOOST_AUTO_TEST_CASE(hosts_names_the_task_at_its_address)
{
    net::HostFiles host{"", std::nullopt, "127.0.0.1 myhost\n"};
    const auto hosts = net::task_hosts(net::Mode::Bridge, host, "web", 0x0ad50002u);
    BOOST_TEST(hosts.find("10.213.0.2\tweb\n") != std::string::npos);
    BOOST_TEST(hosts.find("127.0.0.1\tlocalhost") != std::string::npos);
    BOOST_TEST(net::task_hosts(net::Mode::Host, host, "web", std::nullopt) == host.hosts);
}

BOOST_AUTO_TEST_SUITE_END()

// libnftables is loaded for each stretch of table writes (net/nft_dl.cpp): a missing library is
// ENOPKG naming it and its package; the real one binds every function berth calls.
BOOST_AUTO_TEST_CASE(a_missing_nftables_library_is_enopkg_naming_it_and_its_package)
{
    auto missing = net::NftLibrary::load("libnftables-berth-missing.so.1");
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().code == ENOPKG);
    BOOST_TEST(missing.error().message().find("cannot load libnftables-berth-missing.so.1 "
                                              "(Debian package libnftables1)") !=
               std::string::npos);
    auto real = net::NftLibrary::load();
    BOOST_TEST_REQUIRE(real.has_value());
    BOOST_TEST(
        (real->ctx_new != nullptr && real->run_cmd != nullptr && real->error_buffer != nullptr));
}
