#define BOOST_TEST_MODULE image_reference
#include <boost/test/unit_test.hpp>
#include "image/image.hpp"
#include "image/internal.hpp"

using berth::image::parse_reference;
using berth::image::registry_scheme;

namespace {
const std::string digest = "sha256:" + std::string(64, 'a');
}

BOOST_AUTO_TEST_SUITE(references)

BOOST_AUTO_TEST_CASE(a_single_name_is_a_docker_hub_library_image_at_latest)
{
    auto r = parse_reference("busybox");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->domain == "docker.io");
    BOOST_TEST(r->repository == "library/busybox");
    BOOST_TEST(r->tag == "latest");
    BOOST_TEST(r->str() == "docker.io/library/busybox:latest");
    BOOST_TEST(r->api_host() == "registry-1.docker.io");
}

BOOST_AUTO_TEST_CASE(a_user_repository_on_docker_hub_gets_no_library_prefix)
{
    auto r = parse_reference("grafana/grafana:10.1");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->str() == "docker.io/grafana/grafana:10.1");
}

BOOST_AUTO_TEST_CASE(index_docker_io_is_the_same_registry)
{
    auto r = parse_reference("index.docker.io/library/alpine");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->str() == "docker.io/library/alpine:latest");
}

BOOST_AUTO_TEST_CASE(a_host_with_a_port_is_a_registry_not_a_tag)
{
    auto r = parse_reference("127.0.0.1:5000/team/app");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->domain == "127.0.0.1:5000");
    BOOST_TEST(r->repository == "team/app");
    BOOST_TEST(r->tag == "latest");
    auto l = parse_reference("localhost/app:v1");
    BOOST_TEST_REQUIRE(l.has_value());
    BOOST_TEST(l->domain == "localhost");
    BOOST_TEST(l->tag == "v1");
}

BOOST_AUTO_TEST_CASE(a_digest_alone_pins_the_image_without_a_tag)
{
    auto r = parse_reference("quay.io/org/app@" + digest);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->tag.empty());
    BOOST_TEST(r->digest == digest);
    BOOST_TEST(r->str() == "quay.io/org/app@" + digest);
}

BOOST_AUTO_TEST_CASE(a_tag_and_a_digest_are_both_kept)
{
    auto r = parse_reference("localhost:5000/app:1.0@" + digest);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->tag == "1.0");
    BOOST_TEST(r->digest == digest);
}

BOOST_AUTO_TEST_CASE(an_ipv6_registry_with_a_port_parses)
{
    auto r = parse_reference("[::1]:5000/app:2");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->domain == "[::1]:5000");
    BOOST_TEST(r->tag == "2");
}

BOOST_AUTO_TEST_CASE(bad_references_are_einval_with_the_reason)
{
    for (const char* bad : {"", "UPPER/case", "app:", "app@sha256:abc", "app:bad tag",
                            "host:99999/app", "a//b", "-app", "app@md5:", "/app", "app/"}) {
        auto r = parse_reference(bad);
        BOOST_TEST(!r.has_value(), "accepted: " << bad);
        if (!r) {
            BOOST_TEST(r.error().code == EINVAL);
            BOOST_TEST(r.error().message().find("image reference") != std::string::npos);
        }
    }
}

// Plain HTTP only to an address that cannot leave the host, or by configuration: a DNS name that
// merely starts with "127." can resolve anywhere and keeps TLS (issue 15 audit G2).
BOOST_AUTO_TEST_CASE(only_loopback_addresses_and_configured_hosts_get_plain_http)
{
    BOOST_TEST(parse_reference("127.example.com:5000/app").has_value()); // a valid domain
    for (const char* tls : {"127.example.com:5000", "127.example.com", "127.0.0.1.nip.io:5000",
                            "example.com", "registry-1.docker.io", "10.0.0.1:5000",
                            "128.0.0.1:5000", "[::2]:5000", "localhost.example.com", "127"})
        BOOST_TEST(registry_scheme(tls, {}) == "https", tls);
    for (const char* loopback : {"127.0.0.1:5000", "127.0.0.1", "127.1.2.3", "127.255.255.254:443",
                                 "[::1]:5000", "[::1]", "localhost:5000", "localhost"})
        BOOST_TEST(registry_scheme(loopback, {}) == "http", loopback);
    const std::vector<std::string> plain{"registry.lan:5000", "10.0.0.1:5000"};
    BOOST_TEST(registry_scheme("registry.lan:5000", plain) == "http");
    BOOST_TEST(registry_scheme("10.0.0.1:5000", plain) == "http");
    BOOST_TEST(registry_scheme("registry.lan", plain) == "https"); // the port is part of the host
    BOOST_TEST(registry_scheme("127.example.com:5000", plain) == "https");
}

BOOST_AUTO_TEST_CASE(a_name_over_255_characters_is_refused)
{
    auto r = parse_reference("example.com/" + std::string(250, 'a'));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message().find("255") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
