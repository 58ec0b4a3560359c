// tests/unit/spec_names_test.cpp — capability and rlimit names, and uid_map/gid_map text.
#define BOOST_TEST_MODULE spec_names
#include <sys/resource.h>
#include <linux/capability.h>
#include <boost/test/unit_test.hpp>
#include "runtime/spec.hpp"

using namespace berth::runtime;

BOOST_AUTO_TEST_SUITE(names)

BOOST_AUTO_TEST_CASE(capability_names_resolve_to_kernel_values)
{
    BOOST_TEST(*capability_from_name("CAP_SYS_ADMIN") == CAP_SYS_ADMIN);
    BOOST_TEST(*capability_from_name("CAP_CHOWN") == CAP_CHOWN);
    BOOST_TEST(*capability_from_name("CAP_NET_BIND_SERVICE") == CAP_NET_BIND_SERVICE);
}

BOOST_AUTO_TEST_CASE(capability_names_must_be_spelled_as_the_spec_does)
{
    BOOST_TEST(capability_from_name("CAP_FOO").error().context == "unknown capability 'CAP_FOO'");
    BOOST_TEST(capability_from_name("cap_chown").error().context ==
               "unknown capability 'cap_chown' (expected CAP_...)");
    BOOST_TEST(capability_from_name("SYS_ADMIN").error().context ==
               "unknown capability 'SYS_ADMIN' (expected CAP_...)");
    BOOST_TEST(capability_from_name("CAP_").error().context ==
               "unknown capability 'CAP_' (expected CAP_...)");
    BOOST_TEST(!capability_from_name("CAP_12").has_value()); // libcap's numeric form
    BOOST_TEST(!capability_from_name("CAP_chown").has_value());
}

BOOST_AUTO_TEST_CASE(rlimit_names_resolve_and_unknown_ones_are_named)
{
    BOOST_TEST(*rlimit_from_name("RLIMIT_NOFILE") == RLIMIT_NOFILE);
    BOOST_TEST(*rlimit_from_name("RLIMIT_RTTIME") == RLIMIT_RTTIME);
    BOOST_TEST(rlimit_from_name("RLIMIT_FOO").error().context == "unknown rlimit 'RLIMIT_FOO'");
    BOOST_TEST(!rlimit_from_name("rlimit_nofile").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(id_maps)

BOOST_AUTO_TEST_CASE(mappings_format_as_the_kernel_takes_them)
{
    auto text = format_id_map({{0, 100000, 65536}, {65536, 1000, 1}});
    BOOST_TEST_REQUIRE(text.has_value());
    BOOST_TEST(*text == "0 100000 65536\n65536 1000 1\n");
}

BOOST_AUTO_TEST_CASE(proc_text_with_kernel_padding_parses)
{
    auto map = parse_id_map("         0          0 4294967295\n");
    BOOST_TEST_REQUIRE(map.has_value());
    BOOST_TEST((*map)[0].size == 4294967295u);
    auto two = parse_id_map("0 1000 1\n1 100000 65536\n");
    BOOST_TEST_REQUIRE(two.has_value());
    BOOST_TEST((*two)[1].host_id == 100000u);
    BOOST_TEST(parse_id_map("").value().empty());
}

BOOST_AUTO_TEST_CASE(overflow_zero_size_and_overlap_are_errors)
{
    BOOST_TEST(format_id_map({{4294967295u, 0, 1}}).error().context ==
               "[0]: containerID 4294967295 + size 1 overflows the id space");
    BOOST_TEST(format_id_map({{0, 4294967200u, 100}}).error().context ==
               "[0]: hostID 4294967200 + size 100 overflows the id space");
    BOOST_TEST(format_id_map({{0, 0, 0}}).error().context == "[0]: size must not be zero");
    BOOST_TEST(format_id_map({{0, 0, 10}, {5, 100, 10}}).error().context ==
               "container id ranges overlap at 5");
    BOOST_TEST(format_id_map({{0, 0, 10}, {10, 5, 10}}).error().context ==
               "host id ranges overlap at 5");
    BOOST_TEST(parse_id_map("0 0\n").error().context ==
               "id map line 1: expected three ids, got '0 0'");
    BOOST_TEST(parse_id_map("0 0 -1\n").error().context ==
               "id map line 1: expected three ids, got '0 0 -1'");
    BOOST_TEST(parse_id_map("0 0 1 1\n").has_value() == false);
}

BOOST_AUTO_TEST_CASE(more_than_340_lines_are_refused)
{
    std::vector<IdMapping> many;
    for (std::uint32_t i = 0; i < 341; ++i)
        many.push_back({i, 1000 + i, 1});
    BOOST_TEST(format_id_map(many).error().context ==
               "341 id mappings, more than the kernel's limit of 340");
    many.pop_back();
    BOOST_TEST(format_id_map(many).has_value());
    std::string text;
    for (int i = 0; i < 341; ++i)
        text += std::to_string(i) + " " + std::to_string(1000 + i) + " 1\n";
    BOOST_TEST(parse_id_map(text).error().context == "id map has more than 340 lines");
}

BOOST_AUTO_TEST_SUITE_END()
