// tests/unit/config_test.cpp — berth.conf: the ecs.config grammar, every kind of value, the
// environment overriding the file, Go durations, and errors naming file, line and key.
#define BOOST_TEST_MODULE config
#include <cstdlib>
#include <fstream>
#include <unistd.h>
#include <boost/test/unit_test.hpp>
#include "agent/config/config.hpp"

using namespace berth;
using namespace berth::config;
using namespace std::chrono_literals;

namespace {

Config parsed(std::string_view text, const Environment& env = {})
{
    auto c = parse(text, "/etc/berth/berth.conf", env);
    BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? std::string() : c.error().message()));
    return *c;
}

std::string refusal(std::string_view text, const Environment& env = {})
{
    auto c = parse(text, "/etc/berth/berth.conf", env);
    BOOST_REQUIRE(!c);
    BOOST_TEST(c.error().bad_input);
    BOOST_TEST(c.error().code == EINVAL);
    return c.error().message();
}

// The refusal's message says `words`.
void has(const std::string& message, const std::string& words)
{
    BOOST_TEST(message.find(words) != std::string::npos, message);
}

} // namespace

BOOST_AUTO_TEST_CASE(an_empty_file_gives_the_documented_defaults)
{
    auto c = parsed("");
    BOOST_TEST(c.cluster == "default");
    BOOST_TEST(c.api_listen == "127.0.0.1:51680");
    BOOST_TEST(c.introspection_listen == "127.0.0.1:51678");
    BOOST_TEST(c.metadata_listen == "127.0.0.1:51679");
    BOOST_TEST(c.state_dir == "/var/lib/berth");
    BOOST_TEST(c.runtime_dir == "/run/berth");
    BOOST_TEST((c.task_cleanup_wait == 3h));
    BOOST_TEST((c.container_stop_timeout == 30s));
    BOOST_TEST((c.reserved_ports == std::set<std::uint16_t>{22, 2375, 2376, 51678, 51679}));
    BOOST_TEST(c.reserved_memory_mib == 0U);
    BOOST_TEST(!c.dynamic_host_port_range.has_value());
    BOOST_TEST(c.api_access_key_id.empty());
    BOOST_TEST(!c.stop_tasks_on_shutdown);
    BOOST_TEST(c.task_cpu_mem_limit); // the ECS agent's default: task limits enforced
    BOOST_TEST(c.subnet6.empty());    // IPv4 only unless BERTH_SUBNET6 is set
    BOOST_TEST(c.init_path == "/usr/bin/tini-static");
    BOOST_TEST(known_keys().size() == 37U);
}

BOOST_AUTO_TEST_CASE(comments_blank_lines_quotes_and_crlf_are_read_as_ecs_config_does)
{
    auto c = parsed("# berth.conf\n"
                    "\n"
                    "ECS_CLUSTER=prod\r\n"
                    "  ECS_LOGLEVEL = \"debug\"  \n"
                    "ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION='1h30m'\n"
                    "ECS_RESERVED_PORTS=[80, 443]\n"
                    "ECS_RESERVED_PORTS_UDP=[53]\n"
                    "ECS_RESERVED_MEMORY=256\n"
                    "ECS_DYNAMIC_HOST_PORT_RANGE=50000-50100\n"
                    "ECS_CONTAINER_STOP_TIMEOUT=2m\n"
                    "ECS_DISABLE_IMAGE_CLEANUP=true\n"
                    "ECS_ENABLE_TASK_CPU_MEM_LIMIT=false\n"
                    "BERTH_API_LISTEN=[::1]:9000\n"
                    "BERTH_STATE_DIR=/srv/berth\n"
                    "BERTH_API_ACCESS_KEY_ID=AKIDEXAMPLE\n"
                    "BERTH_API_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n");
    BOOST_TEST(c.cluster == "prod");
    BOOST_TEST((c.log_level == log::Level::Debug));
    BOOST_TEST((c.task_cleanup_wait == 90min));
    BOOST_TEST(c.reserved_ports.count(22) == 1U); // the ECS defaults stay reserved
    BOOST_TEST(c.reserved_ports.count(443) == 1U);
    BOOST_TEST((c.reserved_ports_udp == std::set<std::uint16_t>{53}));
    BOOST_TEST(c.reserved_memory_mib == 256U);
    BOOST_REQUIRE(c.dynamic_host_port_range.has_value());
    BOOST_TEST(c.dynamic_host_port_range->first == 50000U);
    BOOST_TEST(c.dynamic_host_port_range->last == 50100U);
    BOOST_TEST((c.container_stop_timeout == 120s));
    BOOST_TEST(c.image_cleanup_disabled);
    BOOST_TEST(!c.task_cpu_mem_limit);
    BOOST_TEST(c.api_listen == "[::1]:9000");
    BOOST_TEST(c.state_dir == "/srv/berth");
    BOOST_TEST(c.api_secret_access_key == "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
}

BOOST_AUTO_TEST_CASE(the_environment_overrides_the_file_key_by_key)
{
    auto c = parsed("ECS_CLUSTER=prod\nECS_RESERVED_MEMORY=256\n",
                    {{"ECS_CLUSTER", "staging"},
                     {"BERTH_API_LISTEN", "127.0.0.1:6000"},
                     {"ECS_SOMETHING_FOR_THE_REAL_AGENT", "x"}});
    BOOST_TEST(c.cluster == "staging");
    BOOST_TEST(c.reserved_memory_mib == 256U);
    BOOST_TEST(c.api_listen == "127.0.0.1:6000");
}

BOOST_AUTO_TEST_CASE(the_init_binary_is_an_absolute_path_from_the_file_or_the_environment)
{
    BOOST_TEST(parsed("BERTH_INIT_PATH=/opt/tini\n").init_path == "/opt/tini");
    BOOST_TEST(parsed("BERTH_INIT_PATH=/opt/tini\n", {{"BERTH_INIT_PATH", "/usr/local/bin/tini"}})
                   .init_path == "/usr/local/bin/tini");
    const auto relative = refusal("BERTH_INIT_PATH=tini-static\n");
    BOOST_TEST(relative.find("BERTH_INIT_PATH: 'tini-static' is not an absolute path") !=
                   std::string::npos,
               relative);
}

BOOST_AUTO_TEST_CASE(an_unknown_key_is_an_error_naming_file_line_and_key)
{
    BOOST_TEST(refusal("ECS_CLUSTER=a\n\nECS_CLUSTR=b\n") ==
               "/etc/berth/berth.conf:3: ECS_CLUSTR: unknown key (docs/CONFIGURATION.md lists "
               "them)");
    BOOST_TEST(refusal("", {{"BERTH_STAT_DIR", "/x"}}) ==
               "environment: BERTH_STAT_DIR: unknown key (did you mean BERTH_STATE_DIR?)");
    BOOST_TEST(refusal("", {{"BERTH_SUBNETS", "x"}}) ==
               "environment: BERTH_SUBNETS: unknown key (did you mean BERTH_SUBNET?)");
}

BOOST_AUTO_TEST_CASE(unknown_environment_keys_that_are_no_near_miss_are_ignored_like_ecs_does)
{
    // meson exports these to every test; the ECS agent ignores environment it does not know.
    const auto c = parse("", "/etc/berth/berth.conf",
                         {{"BERTH_SOURCE_ROOT", "/src"},
                          {"BERTH_BUILD_ROOT", "/src/build"},
                          {"BERTH_E2E_HELLO", "/x.tar"},
                          {"MESON_TEST_ITERATION", "1"}});
    BOOST_TEST(c.has_value(), (c ? "" : c.error().message()));
}

BOOST_AUTO_TEST_CASE(malformed_values_are_errors_naming_file_line_key_and_value)
{
    has(refusal("ECS_RESERVED_MEMORY=lots\n"),
        "berth.conf:1: ECS_RESERVED_MEMORY: 'lots' is not a whole number of MiB");
    has(refusal("\nECS_CONTAINER_STOP_TIMEOUT=30\n"),
        "berth.conf:2: ECS_CONTAINER_STOP_TIMEOUT: duration '30': missing unit");
    has(refusal("ECS_CONTAINER_STOP_TIMEOUT=-5s\n"), "duration '-5s' is negative");
    has(refusal("ECS_RESERVED_PORTS=22,80\n"), "is not a JSON array of ports");
    has(refusal("ECS_RESERVED_PORTS=[22, 70000]\n"), "'70000' is not a port number");
    has(refusal("ECS_DYNAMIC_HOST_PORT_RANGE=600-500\n"), "is not a port range");
    has(refusal("ECS_LOGLEVEL=loud\n"), "is not a log level");
    has(refusal("ECS_DISABLE_IMAGE_CLEANUP=yes\n"), "'yes' is not a boolean");
    has(refusal("BERTH_STOP_TASKS_ON_SHUTDOWN=maybe\n"), "'maybe' is not a boolean");
    has(refusal("ECS_ENABLE_TASK_CPU_MEM_LIMIT=on\n"), "'on' is not a boolean");
    has(refusal("ECS_CLUSTER=my cluster\n"), "is not a cluster name");
    has(refusal("BERTH_API_LISTEN=51680\n"), "is not host:port");
    has(refusal("BERTH_API_LISTEN=::1:51680\n"), "IPv6 goes in brackets");
    has(refusal("BERTH_STATE_DIR=var/lib\n"), "is not an absolute path");
    has(refusal("BERTH_REGION=US East\n"), "is not a region name");
    has(refusal("ECS_CLUSTER\n"), "berth.conf:1: expected KEY=VALUE, got 'ECS_CLUSTER'");
    has(refusal("export ECS_CLUSTER=a\n"), "'export ECS_CLUSTER': not a key name");
    has(refusal("ECS_CLUSTER=a\nECS_CLUSTER=b\n"),
        "berth.conf:2: ECS_CLUSTER: set twice (first on line 1)");
    has(refusal("BERTH_API_ACCESS_KEY_ID=AKID\n"), "set together or not at all");
    has(refusal("ECS_IMAGE_PULL_TIMEOUT=0\n"), "ECS_IMAGE_PULL_TIMEOUT must be longer than 0");
    has(refusal("", {{"ECS_RESERVED_MEMORY", "-1"}}), "environment: ECS_RESERVED_MEMORY:");
    has(refusal(std::string("ECS_CLUSTER=a\0b\n", 16)), "contains a NUL byte");
    has(refusal(std::string(max_file_bytes + 1, '#')), "larger than");
}

BOOST_AUTO_TEST_CASE(registry_keys_read_json_lists_and_maps_of_hosts)
{
    const auto c = parsed(
        "BERTH_REGISTRY_PLAIN_HTTP=[\"10.0.0.5:5000\", \"registry.lan\", \"[fd00::1]:5000\"]\n"
        "BERTH_REGISTRY_CA_FILE=/etc/berth/registry-ca.pem\n"
        "BERTH_REGISTRY_MIRRORS={\"index.docker.io\": [\"mirror.lan:5000\", \"m2.lan\"],"
        " \"quay.io\": [\"q.lan\"]}\n"
        "BERTH_DOCKER_CONFIG=/etc/berth/docker/config.json\n"
        "ECS_ENGINE_AUTH_TYPE=dockercfg\n"
        "ECS_ENGINE_AUTH_DATA={\"https://index.docker.io/v1/\": {\"auth\": \"dXNlcjpwYXNz\","
        " \"email\": \"a@b.c\"}}\n");
    BOOST_TEST((c.registry_plain_http ==
                std::vector<std::string>{"10.0.0.5:5000", "registry.lan", "[fd00::1]:5000"}));
    BOOST_TEST(c.registry_ca_file == "/etc/berth/registry-ca.pem");
    BOOST_TEST_REQUIRE(c.registry_mirrors.size() == 2U);
    BOOST_TEST((c.registry_mirrors.at("docker.io") ==
                std::vector<std::string>{"mirror.lan:5000", "m2.lan"})); // Docker Hub's name
    BOOST_TEST((c.registry_mirrors.at("quay.io") == std::vector<std::string>{"q.lan"}));
    BOOST_TEST(c.docker_config == "/etc/berth/docker/config.json");
    BOOST_TEST(c.engine_auth_type == "dockercfg");
    BOOST_TEST(c.engine_auth_data.find("dXNlcjpwYXNz") != std::string::npos);
    const auto docker = parsed(
        "", {{"ECS_ENGINE_AUTH_TYPE", "docker"},
             {"ECS_ENGINE_AUTH_DATA", R"({"r.lan:5000": {"username": "u", "password": "p"}})"}});
    BOOST_TEST(docker.engine_auth_type == "docker");
    const auto defaults = parsed("");
    BOOST_TEST(defaults.registry_plain_http.empty());
    BOOST_TEST(defaults.registry_mirrors.empty());
    BOOST_TEST(defaults.engine_auth_data.empty());
}

BOOST_AUTO_TEST_CASE(malformed_registry_keys_are_refused_and_never_echo_a_secret)
{
    has(refusal("BERTH_REGISTRY_PLAIN_HTTP=10.0.0.5:5000\n"), "is not a JSON array");
    has(refusal("BERTH_REGISTRY_PLAIN_HTTP=[\"http://10.0.0.5:5000\"]\n"), "has a scheme");
    has(refusal("BERTH_REGISTRY_PLAIN_HTTP=[\"a b\"]\n"), "is not a registry host[:port]");
    has(refusal("BERTH_REGISTRY_PLAIN_HTTP=[\"r.lan:99999\"]\n"), "is not a registry host");
    has(refusal("BERTH_REGISTRY_PLAIN_HTTP=[5000]\n"), "is not a \"host[:port]\" string");
    has(refusal("BERTH_REGISTRY_CA_FILE=ca.pem\n"), "is not an absolute path");
    has(refusal("BERTH_REGISTRY_MIRRORS=[\"m.lan\"]\n"), "is not a JSON object");
    has(refusal("BERTH_REGISTRY_MIRRORS={\"docker.io\": []}\n"), "are an empty list");
    has(refusal("BERTH_REGISTRY_MIRRORS={\"docker.io\": \"m.lan\"}\n"), "is not a JSON array");
    has(refusal("BERTH_DOCKER_CONFIG=~/.docker/config.json\n"), "is not an absolute path");
    has(refusal("ECS_ENGINE_AUTH_TYPE=basic\n"),
        "the value is not an auth type (docker or dockercfg)");
    has(refusal("ECS_ENGINE_AUTH_TYPE=docker\n"), "set together or not at all");
    has(refusal("ECS_ENGINE_AUTH_DATA={\"r\": {\"auth\": \"dTpw\"}}\n"),
        "set together or not at all");
    has(refusal("ECS_ENGINE_AUTH_TYPE=docker\nECS_ENGINE_AUTH_DATA=not json s3cret\n"),
        "is not a JSON object");
    // The secret never appears in a message, whatever is wrong around it.
    const auto wrong_shape = refusal(
        "ECS_ENGINE_AUTH_TYPE=docker\nECS_ENGINE_AUTH_DATA={\"r.lan\": {\"auth\": \"s3cret\"}}\n");
    has(wrong_shape, "the entry of 'r.lan' needs \"username\" and \"password\"");
    BOOST_TEST(wrong_shape.find("s3cret") == std::string::npos, wrong_shape);
    const auto not_base64 = refusal("ECS_ENGINE_AUTH_TYPE=dockercfg\n"
                                    "ECS_ENGINE_AUTH_DATA={\"r.lan\": {\"auth\": \"s3cret!\"}}\n");
    has(not_base64, "\"auth\" is not base64 of user:password");
    BOOST_TEST(not_base64.find("s3cret") == std::string::npos, not_base64);
    const auto garbage = refusal("ECS_ENGINE_AUTH_TYPE=docker\nECS_ENGINE_AUTH_DATA={s3cret\n");
    BOOST_TEST(garbage.find("s3cret") == std::string::npos, garbage);
    // TYPE and DATA swapped: the type's message does not echo what was given.
    const auto swapped = refusal("ECS_ENGINE_AUTH_TYPE={\"r.lan\": {\"auth\": \"s3cret\"}}\n");
    has(swapped, "is not an auth type");
    BOOST_TEST(swapped.find("s3cret") == std::string::npos, swapped);
    has(refusal("ECS_ENGINE_AUTH_TYPE=docker\n"),
        "ECS_ENGINE_AUTH_TYPE is set but ECS_ENGINE_AUTH_DATA is not");
    has(refusal("ECS_ENGINE_AUTH_TYPE=docker\nECS_ENGINE_AUTH_DATA={}\n"), "an empty object");
    // Per-repository keys (the ECS agent's "host/team") are refused, not read as the host's.
    has(refusal("ECS_ENGINE_AUTH_TYPE=docker\nECS_ENGINE_AUTH_DATA={\"r.lan/team-a\": "
                "{\"username\": \"u\", \"password\": \"p\"}}\n"),
        "the entry of 'r.lan/team-a' names a repository");
    has(refusal("ECS_ENGINE_AUTH_TYPE=docker\nECS_ENGINE_AUTH_DATA={\"r.lan\": "
                "{\"username\": \"u\", \"password\": \"p\", \"auth\": \"dTpw\"}}\n"),
        "has \"auth\" too");
    has(refusal("BERTH_REGISTRY_PLAIN_HTTP=[\"[fd00::1]:99999\"]\n"), "is not a registry host");
    has(refusal("BERTH_REGISTRY_PLAIN_HTTP=[\"[::1]x\"]\n"), "is not a registry host");
    has(refusal("BERTH_REGISTRY_PLAIN_HTTP=[\":5000\"]\n"), "is not a registry host");
    has(refusal("BERTH_REGISTRY_MIRRORS={\"docker.io\": [\"a.lan\"], \"index.docker.io\": "
                "[\"b.lan\"]}\n"),
        "two entries name the registry 'docker.io'");
    // Docker Hub's URL key and a registry's URL are registries, not repositories.
    const auto hub = parsed("ECS_ENGINE_AUTH_TYPE=dockercfg\nECS_ENGINE_AUTH_DATA="
                            "{\"https://index.docker.io/v1/\": {\"auth\": \"dTpw\"},"
                            " \"https://r.lan:5000/\": {\"auth\": \"dTpw\"}}\n");
    BOOST_TEST(hub.engine_auth_type == "dockercfg");
}

BOOST_AUTO_TEST_CASE(the_metadata_listener_must_be_an_ipv4_address_tasks_can_be_dnated_to)
{
    BOOST_TEST(parsed("BERTH_METADATA_LISTEN=10.0.0.5:80\n").metadata_listen == "10.0.0.5:80");
    for (const char* bad :
         {"BERTH_METADATA_LISTEN=0.0.0.0:51679\n", "BERTH_METADATA_LISTEN=localhost:51679\n",
          "BERTH_METADATA_LISTEN=[::1]:51679\n"}) {
        const auto message = refusal(bad);
        BOOST_TEST(message.find("BERTH_METADATA_LISTEN") != std::string::npos, message);
        BOOST_TEST(message.find("IPv4") != std::string::npos, message);
    }
}

BOOST_AUTO_TEST_CASE(durations_are_read_in_go_form)
{
    auto ms = [](std::string_view text) {
        auto d = parse_duration(text);
        BOOST_REQUIRE_MESSAGE(d.has_value(), (d ? std::string() : d.error().message()));
        return d->count();
    };
    BOOST_TEST(ms("3h") == 3 * 3600 * 1000);
    BOOST_TEST(ms("90s") == 90'000);
    BOOST_TEST(ms("1h30m") == 5'400'000);
    BOOST_TEST(ms("1.5s") == 1500);
    BOOST_TEST(ms(".5m") == 30'000);
    BOOST_TEST(ms("500ms") == 500);
    BOOST_TEST(ms("2500us") == 2);
    BOOST_TEST(ms("2500\xC2\xB5s") == 2);
    BOOST_TEST(ms("1000000ns") == 1);
    BOOST_TEST(ms("1.h") == 3600 * 1000); // Go accepts an empty fraction
    BOOST_TEST(ms("0") == 0);
    BOOST_TEST(ms("-2m") == -120'000);
    BOOST_TEST(ms("+1s") == 1000);
    BOOST_TEST(ms("2562047h") == 2562047LL * 3600 * 1000); // Go's largest whole hour count
    for (auto bad : {"", "s", "1", "1x", "..1s", "1s1", "-", "2562048h", "1e3s", " 1s"})
        BOOST_TEST(!parse_duration(bad), bad);
}

BOOST_AUTO_TEST_CASE(a_missing_file_gives_defaults_unless_it_must_exist)
{
    const std::string path = "/nonexistent-berth-config-dir/berth.conf";
    auto c = load(path, {}, false);
    BOOST_REQUIRE(c.has_value());
    BOOST_TEST(c->cluster == "default");
    auto d = load(path, {}, true);
    BOOST_REQUIRE(!d);
    BOOST_TEST(d.error().code == ENOENT);
}

BOOST_AUTO_TEST_CASE(a_file_on_disk_is_read_and_the_environment_array_filtered)
{
    char dir_template[] = "/tmp/berth-config-test-XXXXXX";
    BOOST_REQUIRE(mkdtemp(dir_template) != nullptr);
    const std::string path = std::string(dir_template) + "/berth.conf";
    std::ofstream(path) << "ECS_CLUSTER=disk\n";
    char a[] = "ECS_LOGLEVEL=warn";
    char b[] = "PATH=/usr/bin";
    char c[] = "BERTH_REGION=eu-west-1";
    char* envp[] = {a, b, c, nullptr};
    const auto env = environment_from(envp);
    BOOST_TEST(env.size() == 2U);
    auto conf = load(path, env, true);
    BOOST_REQUIRE(conf.has_value());
    BOOST_TEST(conf->cluster == "disk");
    BOOST_TEST((conf->log_level == log::Level::Warn));
    BOOST_TEST(conf->region == "eu-west-1");
    unlink(path.c_str());
    rmdir(dir_template);
}
