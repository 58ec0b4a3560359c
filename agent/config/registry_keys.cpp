// agent/config/registry_keys.cpp — the keys that say how berth reaches registries. The ECS agent
// leaves these to Docker's daemon.json ("insecure-registries", "registry-mirrors", certs.d) and
// reads credentials from ECS_ENGINE_AUTH_TYPE/ECS_ENGINE_AUTH_DATA; berth pulls itself, so they
// are its own keys, and ECS_ENGINE_AUTH_* keep the ECS agent's meaning and shapes. Lists and
// maps are JSON, as ECS_RESERVED_PORTS is.
#include <algorithm>
#include <nlohmann/json.hpp>
#include "agent/config/keys.hpp"
#include "base/strings.hpp"

namespace berth::config {
namespace {

nlohmann::json parse_json(std::string_view v)
{
    return nlohmann::json::parse(v.begin(), v.end(), nullptr, /*allow_exceptions=*/false);
}

// host[:port] as an image reference names a registry: a DNS name or IPv4 address, or an IPv6
// address in brackets, with an optional port; no scheme, no path.
Result<std::string> registry_host(std::string_view v)
{
    if (v.find("://") != std::string_view::npos)
        return Error::invalid(berth::quoted(v), " has a scheme: write host[:port] (plain http is "
                                                "BERTH_REGISTRY_PLAIN_HTTP)");
    const bool ok = !v.empty() && v.size() <= 255 && v.front() != '-' && v.front() != '.' &&
                    std::all_of(v.begin(), v.end(), [](char c) {
                        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                               (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' ||
                               c == '[' || c == ']' || c == '_';
                    });
    if (!ok)
        return Error::invalid(berth::quoted(v), " is not a registry host[:port]");
    // The port: after the last ':' of a name or IPv4 address, after "]:" of an IPv6 one.
    std::string_view host = v, port;
    if (v.front() == '[') {
        const auto close = v.find(']');
        if (close == std::string_view::npos || close < 3 ||
            (close + 1 < v.size() && v[close + 1] != ':'))
            return Error::invalid(berth::quoted(v), " is not a registry host[:port]");
        host = v.substr(0, close + 1);
        if (close + 1 < v.size())
            port = v.substr(close + 2);
    } else if (const auto colon = v.rfind(':'); colon != std::string_view::npos) {
        host = v.substr(0, colon);
        port = v.substr(colon + 1);
    }
    const auto number = parse_int<std::uint16_t>(port);
    const bool host_ok = !host.empty() && (host.front() == '[' ? host.find(']') == host.size() - 1
                                                               : host.find_first_of(":[]") ==
                                                                     std::string_view::npos);
    if (!host_ok || (port.data() != nullptr && (!number || *number == 0)))
        return Error::invalid(berth::quoted(v), " is not a registry host[:port]");
    return std::string(v);
}

// Docker Hub's other names, as image references and Docker's configuration spell it.
std::string canonical_domain(std::string host)
{
    if (host == "index.docker.io" || host == "registry-1.docker.io")
        return "docker.io";
    return host;
}

Result<std::vector<std::string>> host_list(const nlohmann::json& j, std::string_view what)
{
    if (!j.is_array())
        return Error::invalid(what, " is not a JSON array of \"host[:port]\" strings");
    std::vector<std::string> out;
    for (const auto& item : j) {
        if (!item.is_string())
            return Error::invalid(what, ": ", item.dump(), " is not a \"host[:port]\" string");
        auto host = registry_host(item.get<std::string>());
        if (!host)
            return std::move(host).error();
        out.push_back(std::move(*host));
    }
    return out;
}

// An ECS_ENGINE_AUTH_DATA key: a registry, optionally as a URL ("https://host/" or Docker
// Hub's "https://index.docker.io/v1/"), not a repository under it.
bool names_a_registry(std::string_view key)
{
    for (std::string_view scheme : {"https://", "http://"})
        if (key.starts_with(scheme))
            key.remove_prefix(scheme.size());
    const auto slash = key.find('/');
    if (slash == std::string_view::npos)
        return true;
    const auto path = key.substr(slash);
    return path == "/" || path == "/v1/" || path == "/v1" || path == "/v2/" || path == "/v2";
}

} // namespace

Result<void> set_registry_plain_http(Config& c, std::string_view v)
{
    auto hosts = host_list(parse_json(v), berth::quoted(v));
    if (!hosts)
        return std::move(hosts).error();
    c.registry_plain_http = std::move(*hosts);
    return {};
}

Result<void> set_registry_ca_file(Config& c, std::string_view v)
{
    if (v.empty() || v.front() != '/')
        return Error::invalid(berth::quoted(v), " is not an absolute path");
    c.registry_ca_file = std::string(v);
    return {};
}

Result<void> set_registry_mirrors(Config& c, std::string_view v)
{
    const auto j = parse_json(v);
    if (!j.is_object())
        return Error::invalid(berth::quoted(v),
                              " is not a JSON object of registry -> [mirror hosts], "
                              "like {\"docker.io\": [\"mirror.internal:5000\"]}");
    std::map<std::string, std::vector<std::string>> mirrors;
    for (const auto& [domain, hosts] : j.items()) {
        auto name = registry_host(domain);
        if (!name)
            return std::move(name).error();
        auto list = host_list(hosts, cat("the mirrors of ", berth::quoted(domain)));
        if (!list)
            return std::move(list).error();
        if (list->empty())
            return Error::invalid("the mirrors of ", berth::quoted(domain), " are an empty list");
        if (!mirrors.emplace(canonical_domain(*name), std::move(*list)).second)
            return Error::invalid("two entries name the registry ",
                                  berth::quoted(canonical_domain(*name)));
    }
    c.registry_mirrors = std::move(mirrors);
    return {};
}

Result<void> set_docker_config(Config& c, std::string_view v)
{
    if (v.empty() || v.front() != '/')
        return Error::invalid(berth::quoted(v), " is not an absolute path (of a config.json)");
    c.docker_config = std::string(v);
    return {};
}

Result<void> set_engine_auth_type(Config& c, std::string_view v)
{
    // Not echoed: a file with TYPE and DATA swapped would print the credentials.
    if (v != "docker" && v != "dockercfg")
        return Error::invalid("the value is not an auth type (docker or dockercfg)");
    c.engine_auth_type = std::string(v);
    return {};
}

Result<void> set_engine_auth_data(Config& c, std::string_view v)
{
    // The value is a secret: messages name the registry and the field, never the value.
    const auto j = parse_json(v);
    if (!j.is_object())
        return Error::invalid("the value is not a JSON object of registry -> credentials");
    if (j.empty())
        return Error::invalid("the value is an empty object (name at least one registry)");
    for (const auto& [registry, entry] : j.items())
        if (!entry.is_object())
            return Error::invalid("the entry of ", berth::quoted(registry),
                                  " is not a JSON object");
    c.engine_auth_data = j.dump();
    return {};
}

Result<void> check_engine_auth(const Config& c)
{
    if (c.engine_auth_type.empty() != c.engine_auth_data.empty())
        return Error::invalid(
            c.engine_auth_type.empty() ? "ECS_ENGINE_AUTH_DATA" : "ECS_ENGINE_AUTH_TYPE",
            " is set but ",
            c.engine_auth_type.empty() ? "ECS_ENGINE_AUTH_TYPE" : "ECS_ENGINE_AUTH_DATA",
            " is not: they are set together or not at all");
    if (c.engine_auth_data.empty())
        return {};
    const bool dockercfg = c.engine_auth_type == "dockercfg";
    const auto string_field = [](const nlohmann::json& entry, const char* name) {
        const auto f = entry.find(name);
        return f != entry.end() && f->is_string() && !f->get<std::string>().empty();
    };
    const auto data = parse_json(c.engine_auth_data);
    for (const auto& [registry, entry] : data.items()) {
        const auto where = cat("ECS_ENGINE_AUTH_DATA: the entry of ", berth::quoted(registry));
        // Credentials are per registry host, as Docker keys them ("https://host/v1/" included);
        // the ECS agent's per-repository keys ("host/team") would be read as the whole host's.
        if (!names_a_registry(registry))
            return Error::invalid(where, " names a repository: credentials here are per registry "
                                         "host (host[:port], or https://index.docker.io/v1/)");
        if (dockercfg) {
            // {"auth": base64("user:password"), "email": ...}, as ~/.dockercfg has it.
            if (!string_field(entry, "auth"))
                return Error::invalid(where, " has no \"auth\" (ECS_ENGINE_AUTH_TYPE=dockercfg)");
            const auto decoded = base64_decode(entry["auth"].get<std::string>());
            if (!decoded || decoded->find(':') == std::string::npos)
                return Error::invalid(where, ": \"auth\" is not base64 of user:password");
        } else if (!string_field(entry, "username") || !string_field(entry, "password")) {
            return Error::invalid(where, " needs \"username\" and \"password\" "
                                         "(ECS_ENGINE_AUTH_TYPE=docker)");
        } else if (entry.contains("auth")) { // the library would prefer it to the two above
            return Error::invalid(where, " has \"auth\" too; ECS_ENGINE_AUTH_TYPE=docker "
                                         "entries carry \"username\" and \"password\"");
        }
    }
    return {};
}

} // namespace berth::config
