// agent/config/keys.cpp — every key berth reads and its value grammar. ECS_* keys parse as the
// ECS agent parses them (agent/config/parse.go): durations in Go's form, booleans as Go's
// strconv.ParseBool, ECS_RESERVED_PORTS as a JSON array of port numbers ("[22, 80]"), added to
// the agent's defaults as the ECS agent does; ECS_DYNAMIC_HOST_PORT_RANGE as "first-last".
#include "agent/config/keys.hpp"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <algorithm>
#include <cctype>
#include "base/strings.hpp"

namespace berth::config {
namespace {

using namespace std::chrono_literals;

Result<Duration> non_negative_duration(std::string_view v)
{
    auto d = parse_duration(v);
    if (!d)
        return std::move(d).error();
    if (d->count() < 0)
        return Error::invalid("duration ", quoted(v), " is negative");
    return *d;
}

template <Duration Config::*Field>
Result<void> set_duration(Config& c, std::string_view v)
{
    auto d = non_negative_duration(v);
    if (!d)
        return std::move(d).error();
    c.*Field = *d;
    return {};
}

Result<bool> parse_bool(std::string_view v)
{
    for (auto t : {"1", "t", "T", "TRUE", "true", "True"})
        if (v == t)
            return true;
    for (auto f : {"0", "f", "F", "FALSE", "false", "False"})
        if (v == f)
            return false;
    return Error::invalid(quoted(v), " is not a boolean (true or false)");
}

Result<std::uint16_t> parse_port(std::string_view v)
{
    const auto t = trim(v);
    auto p = parse_int<std::uint16_t>(t);
    if (!p || *p == 0)
        return Error::invalid(quoted(t), " is not a port number (1-65535)");
    return *p;
}

// "[22, 80, 8080]"; "[]" is allowed.
Result<std::set<std::uint16_t>> parse_port_list(std::string_view v)
{
    const auto t = trim(v);
    if (t.size() < 2 || t.front() != '[' || t.back() != ']')
        return Error::invalid(quoted(v), " is not a JSON array of ports, like [22, 80]");
    std::set<std::uint16_t> ports;
    const auto inner = trim(t.substr(1, t.size() - 2));
    if (inner.empty())
        return ports;
    for (auto item : split(inner, ',')) {
        auto p = parse_port(item);
        if (!p)
            return std::move(p).error();
        ports.insert(*p);
    }
    return ports;
}

Result<void> set_reserved_ports(Config& c, std::string_view v)
{
    auto ports = parse_port_list(v);
    if (!ports)
        return std::move(ports).error();
    c.reserved_ports.insert(ports->begin(), ports->end());
    return {};
}

Result<void> set_reserved_ports_udp(Config& c, std::string_view v)
{
    auto ports = parse_port_list(v);
    if (!ports)
        return std::move(ports).error();
    c.reserved_ports_udp = std::move(*ports);
    return {};
}

Result<void> set_port_range(Config& c, std::string_view v)
{
    const auto dash = v.find('-');
    if (dash == std::string_view::npos)
        return Error::invalid(quoted(v), " is not a port range like 49153-65535");
    auto first = parse_port(v.substr(0, dash));
    auto last = parse_port(v.substr(dash + 1));
    if (!first || !last || *first > *last)
        return Error::invalid(quoted(v), " is not a port range like 49153-65535");
    c.dynamic_host_port_range = PortRange{*first, *last};
    return {};
}

Result<void> set_log_level(Config& c, std::string_view v)
{
    // The ECS agent's levels; crit maps to error, berth's most severe level.
    static const std::pair<std::string_view, log::Level> levels[] = {{"debug", log::Level::Debug},
                                                                     {"info", log::Level::Info},
                                                                     {"warn", log::Level::Warn},
                                                                     {"error", log::Level::Error},
                                                                     {"crit", log::Level::Error}};
    for (const auto& [name, level] : levels)
        if (name == v) {
            c.log_level = level;
            return {};
        }
    return Error::invalid(quoted(v), " is not a log level (debug, info, warn, error, crit)");
}

Result<void> set_memory(Config& c, std::string_view v)
{
    auto mib = parse_int<std::uint64_t>(v);
    if (!mib)
        return Error::invalid(quoted(v), " is not a whole number of MiB");
    c.reserved_memory_mib = *mib;
    return {};
}

Result<void> set_images_per_cycle(Config& c, std::string_view v)
{
    auto n = parse_int<unsigned>(v);
    if (!n || *n == 0)
        return Error::invalid(quoted(v), " is not a positive whole number");
    c.images_deleted_per_cycle = *n;
    return {};
}

Result<void> set_disable_cleanup(Config& c, std::string_view v)
{
    auto b = parse_bool(v);
    if (!b)
        return std::move(b).error();
    c.image_cleanup_disabled = *b;
    return {};
}

template <bool Config::*Field>
Result<void> set_bool(Config& c, std::string_view v)
{
    auto b = parse_bool(v);
    if (!b)
        return std::move(b).error();
    c.*Field = *b;
    return {};
}

Result<void> set_cluster(Config& c, std::string_view v)
{
    // ECS cluster names: up to 255 letters, digits, hyphens and underscores (or a cluster ARN).
    const bool arn = v.substr(0, 4) == "arn:";
    const bool ok = !v.empty() && v.size() <= (arn ? 2048U : 255U) &&
                    std::all_of(v.begin(), v.end(), [&](char ch) {
                        return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' ||
                               ch == '_' || (arn && (ch == ':' || ch == '/'));
                    });
    if (!ok)
        return Error::invalid(quoted(v), " is not a cluster name (letters, digits, - and _)");
    c.cluster = std::string(v);
    return {};
}

// host:port with an IPv4 address, a [bracketed] IPv6 address or a name.
template <std::string Config::*Field>
Result<void> set_listen(Config& c, std::string_view v)
{
    const auto colon = v.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return Error::invalid(quoted(v), " is not host:port (like 127.0.0.1:51680)");
    const auto host = v.substr(0, colon);
    const bool bracketed = host.front() == '[' && host.back() == ']' && host.size() > 2;
    if (!bracketed && host.find_first_of(":[] \t") != std::string_view::npos)
        return Error::invalid(quoted(v), " is not host:port (IPv6 goes in brackets: [::1]:51680)");
    if (auto port = parse_port(v.substr(colon + 1)); !port)
        return Error::invalid(quoted(v), ": the port is not 1-65535");
    c.*Field = std::string(v);
    return {};
}

// The task metadata listener: tasks reach it through a DNAT of 169.254.170.2:80, so an IPv4
// address of this host, not a name and not 0.0.0.0 (a DNAT needs one destination).
Result<void> set_metadata_listen(Config& c, std::string_view v)
{
    if (auto r = set_listen<&Config::metadata_listen>(c, v); !r)
        return r;
    const std::string host(v.substr(0, v.rfind(':')));
    in_addr address{};
    if (::inet_pton(AF_INET, host.c_str(), &address) != 1 || address.s_addr == 0)
        return Error::invalid(quoted(v), ": the task metadata listener needs an IPv4 address "
                                         "of this host (169.254.170.2 is DNATed to it), like "
                                         "127.0.0.1:51679");
    return {};
}

template <std::string Config::*Field>
Result<void> set_path(Config& c, std::string_view v)
{
    if (v.empty() || v.front() != '/')
        return Error::invalid(quoted(v), " is not an absolute path");
    c.*Field = std::string(v);
    return {};
}

template <std::string Config::*Field>
Result<void> set_text(Config& c, std::string_view v)
{
    if (v.empty())
        return Error::invalid("the value is empty");
    if (std::any_of(v.begin(), v.end(),
                    [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; }))
        return Error::invalid("the value contains control characters");
    c.*Field = std::string(v);
    return {};
}

Result<void> set_region(Config& c, std::string_view v)
{
    const bool ok = !v.empty() && v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
    });
    if (!ok)
        return Error::invalid(quoted(v), " is not a region name (like us-east-1)");
    c.region = std::string(v);
    return {};
}

} // namespace

const std::vector<Key>& keys()
{
    static const std::vector<Key> table = {
        {"ECS_CLUSTER", set_cluster},
        {"ECS_DYNAMIC_HOST_PORT_RANGE", set_port_range},
        {"ECS_RESERVED_PORTS", set_reserved_ports},
        {"ECS_RESERVED_PORTS_UDP", set_reserved_ports_udp},
        {"ECS_RESERVED_MEMORY", set_memory},
        {"ECS_CONTAINER_STOP_TIMEOUT", set_duration<&Config::container_stop_timeout>},
        {"ECS_CONTAINER_START_TIMEOUT", set_duration<&Config::container_start_timeout>},
        {"ECS_CONTAINER_CREATE_TIMEOUT", set_duration<&Config::container_create_timeout>},
        {"ECS_IMAGE_PULL_TIMEOUT", set_duration<&Config::image_pull_timeout>},
        {"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION", set_duration<&Config::task_cleanup_wait>},
        {"ECS_IMAGE_CLEANUP_INTERVAL", set_duration<&Config::image_cleanup_interval>},
        {"ECS_IMAGE_MINIMUM_CLEANUP_AGE", set_duration<&Config::image_minimum_cleanup_age>},
        {"ECS_NUM_IMAGES_DELETE_PER_CYCLE", set_images_per_cycle},
        {"ECS_DISABLE_IMAGE_CLEANUP", set_disable_cleanup},
        {"ECS_LOGLEVEL", set_log_level},
        {"ECS_ENABLE_TASK_CPU_MEM_LIMIT", set_bool<&Config::task_cpu_mem_limit>},
        {"ECS_ENGINE_AUTH_TYPE", set_engine_auth_type},
        {"ECS_ENGINE_AUTH_DATA", set_engine_auth_data},
        {"BERTH_API_LISTEN", set_listen<&Config::api_listen>},
        {"BERTH_INTROSPECTION_LISTEN", set_listen<&Config::introspection_listen>},
        {"BERTH_METADATA_LISTEN", set_metadata_listen},
        {"BERTH_STATE_DIR", set_path<&Config::state_dir>},
        {"BERTH_RUNTIME_DIR", set_path<&Config::runtime_dir>},
        {"BERTH_REGION", set_region},
        {"BERTH_CGROUP_ROOT", set_path<&Config::cgroup_root>},
        {"BERTH_BRIDGE", set_text<&Config::bridge>},
        {"BERTH_SUBNET", set_text<&Config::subnet>},
        {"BERTH_SUBNET6", set_text<&Config::subnet6>},
        {"BERTH_API_ACCESS_KEY_ID", set_text<&Config::api_access_key_id>},
        {"BERTH_API_SECRET_ACCESS_KEY", set_text<&Config::api_secret_access_key>},
        {"BERTH_STOP_TASKS_ON_SHUTDOWN", set_bool<&Config::stop_tasks_on_shutdown>},
        {"BERTH_SUPERVISOR_IDLE_EXIT", set_duration<&Config::supervisor_idle_exit>},
        {"BERTH_INIT_PATH", set_path<&Config::init_path>},
        {"BERTH_REGISTRY_PLAIN_HTTP", set_registry_plain_http},
        {"BERTH_REGISTRY_CA_FILE", set_registry_ca_file},
        {"BERTH_REGISTRY_MIRRORS", set_registry_mirrors},
        {"BERTH_DOCKER_CONFIG", set_docker_config},
    };
    return table;
}

const Key* find_key(std::string_view name)
{
    for (const auto& k : keys())
        if (k.name == name)
            return &k;
    return nullptr;
}

const std::vector<std::string_view>& known_keys()
{
    static const std::vector<std::string_view> names = [] {
        std::vector<std::string_view> out;
        for (const auto& k : keys())
            out.push_back(k.name);
        return out;
    }();
    return names;
}

Result<void> check(const Config& c)
{
    if (c.api_access_key_id.empty() != c.api_secret_access_key.empty())
        return Error::invalid("BERTH_API_ACCESS_KEY_ID and BERTH_API_SECRET_ACCESS_KEY are set "
                              "together or not at all");
    // An action allowed no time at all would fail every task at once.
    for (auto [name, d] : {std::pair{"ECS_CONTAINER_START_TIMEOUT", c.container_start_timeout},
                           std::pair{"ECS_CONTAINER_CREATE_TIMEOUT", c.container_create_timeout},
                           std::pair{"ECS_IMAGE_PULL_TIMEOUT", c.image_pull_timeout}})
        if (d.count() == 0)
            return Error::invalid(name, " must be longer than 0");
    if (c.supervisor_idle_exit > std::chrono::hours(24)) // berth-supervisor --idle-exit's bound
        return Error::invalid("BERTH_SUPERVISOR_IDLE_EXIT must be at most 24h (0: never)");
    return check_engine_auth(c);
}

} // namespace berth::config
