// tests/unit/config_example_test.cpp — systemd/berth.conf.example, which installs become
// /etc/berth/berth.conf: berthd must start with it as it is, and with every key it shows
// uncommented (the values it shows are the defaults, so they must be valid and must be them).
#define BOOST_TEST_MODULE config_example
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <boost/test/unit_test.hpp>
#include "agent/config/config.hpp"
#include "tests/unit/source_tree.hpp"

using namespace berth;

namespace {

std::string example_text()
{
    const std::string path = test::source_path("systemd/berth.conf.example");
    std::ifstream in(path);
    BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// "#KEY=value" -> "KEY=value" for every commented key with a value; counts them.
std::string uncommented(const std::string& text, int& keys)
{
    static const std::regex commented_key("^#([A-Z][A-Z0-9_]*=.+)$");
    std::istringstream in(text);
    std::string out, line;
    keys = 0;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, commented_key)) {
            line = m[1];
            ++keys;
        }
        out += line + '\n';
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_example_configuration_parses_as_installed)
{
    auto c = config::parse(example_text(), "berth.conf.example", {});
    BOOST_TEST_REQUIRE(c.has_value(), (c ? std::string() : c.error().message()));
}

BOOST_AUTO_TEST_CASE(every_value_the_example_shows_is_valid_and_is_the_default)
{
    int keys = 0;
    const auto text = uncommented(example_text(), keys);
    BOOST_TEST(keys >= 10);
    auto shown = config::parse(text, "berth.conf.example (uncommented)", {});
    BOOST_TEST_REQUIRE(shown.has_value(), (shown ? std::string() : shown.error().message()));
    auto defaults = config::parse("", "empty", {});
    BOOST_TEST_REQUIRE(defaults.has_value());
    BOOST_TEST(shown->api_listen == defaults->api_listen);
    BOOST_TEST(shown->introspection_listen == defaults->introspection_listen);
    BOOST_TEST(shown->metadata_listen == defaults->metadata_listen);
    BOOST_TEST(shown->state_dir == defaults->state_dir);
    BOOST_TEST(shown->runtime_dir == defaults->runtime_dir);
    BOOST_TEST(shown->cluster == defaults->cluster);
    BOOST_TEST(shown->region == defaults->region);
    BOOST_TEST(shown->reserved_ports == defaults->reserved_ports);
    BOOST_TEST(shown->reserved_memory_mib == defaults->reserved_memory_mib);
    BOOST_TEST(shown->container_stop_timeout.count() == defaults->container_stop_timeout.count());
    BOOST_TEST(shown->task_cleanup_wait.count() == defaults->task_cleanup_wait.count());
}
