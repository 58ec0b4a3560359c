// state.json: every task network berth made, written atomically before the kernel work it
// records, so recover() can finish or undo it after a crash. A corrupt file is an error that
// names the field, never a crash (fuzzed: tests/fuzz/net_state_fuzz.cpp).
#include <nlohmann/json.hpp>
#include "base/files.hpp"
#include "net/internal.hpp"

namespace berth::net {

namespace {

constexpr std::size_t state_cap = std::size_t{8} * 1024 * 1024;

std::string_view mode_name(Mode mode)
{
    switch (mode) {
    case Mode::Awsvpc: return "awsvpc";
    case Mode::Bridge: return "bridge";
    case Mode::Host: return "host";
    case Mode::None: return "none";
    }
    return "none";
}

Result<std::uint16_t> port_field(const nlohmann::json& j, const char* key)
{
    if (!j.contains(key) || !j[key].is_number_unsigned() || j[key].get<std::uint64_t>() > 65535)
        return Error::invalid(key, ": must be a port number");
    return static_cast<std::uint16_t>(j[key].get<std::uint64_t>());
}

Result<PortMapping> parse_port(const nlohmann::json& j)
{
    if (!j.is_object())
        return Error::invalid("must be an object");
    PortMapping port;
    auto container = port_field(j, "container_port");
    auto host = port_field(j, "host_port");
    if (!container || !host)
        return container ? std::move(host).error() : std::move(container).error();
    port.container_port = *container;
    port.host_port = *host;
    if (!j.contains("protocol") || !j["protocol"].is_string())
        return Error::invalid("protocol: must be a string");
    auto protocol = parse_protocol(j["protocol"].get<std::string>());
    if (!protocol)
        return std::move(protocol).error();
    port.protocol = *protocol;
    if (j.contains("host_ip")) {
        if (!j["host_ip"].is_string() || !parse_ipv4(j["host_ip"].get<std::string>()))
            return Error::invalid("host_ip: must be an IPv4 address");
        port.host_ip = j["host_ip"].get<std::string>();
    }
    return port;
}

Result<TaskRecord> parse_task(const std::string& id, const nlohmann::json& j)
{
    auto valid = check_task_id(id);
    if (!valid)
        return std::move(valid).error();
    if (!j.is_object() || !j.contains("mode") || !j["mode"].is_string())
        return Error::invalid("mode: must be a string");
    auto mode = parse_mode(j["mode"].get<std::string>());
    if (!mode)
        return std::move(mode).error();
    TaskRecord task{id, *mode, 0, {}};
    if (j.contains("address")) {
        if (!j["address"].is_string())
            return Error::invalid("address: must be a string");
        auto address = parse_ipv4(j["address"].get<std::string>());
        if (!address)
            return std::move(address).error().wrap("address");
        task.address = *address;
    }
    if (j.contains("ports")) {
        if (!j["ports"].is_array())
            return Error::invalid("ports: must be an array");
        for (std::size_t i = 0; i < j["ports"].size(); ++i) {
            auto port = parse_port(j["ports"][i]);
            if (!port)
                return std::move(port).error().wrap(cat("ports[", i, "]"));
            task.ports.push_back(std::move(*port));
        }
    }
    return task;
}

Result<StateFile> parse_json(const nlohmann::json& j)
{
    if (!j.is_object() || !j.contains("tasks") || !j["tasks"].is_object())
        return Error::invalid("tasks: must be an object");
    StateFile state;
    for (const auto& [id, value] : j["tasks"].items()) {
        auto task = parse_task(id, value);
        if (!task)
            return std::move(task).error().wrap(cat("tasks.", quoted(id)));
        state.tasks.emplace(id, std::move(*task));
    }
    return state;
}

void append_ipv4(std::string& text, std::uint32_t address)
{
    for (int shift = 24; shift >= 0; shift -= 8) {
        text += std::to_string((address >> shift) & 0xff);
        if (shift != 0)
            text += '.';
    }
}

// A JSON string literal: quotes, backslashes and control bytes escaped.
std::string json_string(std::string_view value)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20) {
            out += "\\u00";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

} // namespace

Result<StateFile> parse_state(std::string_view text)
{
    // The one place nlohmann::json parses here; no exception leaves this function.
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded())
        return Error::invalid("net state: not valid JSON");
    try {
        auto state = parse_json(j);
        if (!state)
            return std::move(state).error().wrap("net state");
        return state;
    } catch (const nlohmann::json::exception& e) {
        return Error::invalid("net state: ", e.what());
    }
}

std::string serialize_state(const StateFile& state)
{
    // Written by hand with plain appends (no JSON tree, no stream per field), one task per
    // line: the file is rewritten before every add and remove, and the tree and streams cost
    // milliseconds per write at a thousand tasks. The ids and host IPs in it are checked on
    // the way in; json_string() escapes them regardless.
    std::string text = "{\"tasks\": {";
    const char* separator = "\n";
    for (const auto& [id, task] : state.tasks) {
        text += separator;
        separator = ",\n";
        text += json_string(id);
        text += ": {\"mode\": \"";
        text += mode_name(task.mode);
        text += '"';
        if (task.address != 0) {
            text += ", \"address\": \"";
            append_ipv4(text, task.address);
            text += '"';
        }
        text += ", \"ports\": [";
        const char* comma = "";
        for (const auto& port : task.ports) {
            text += comma;
            comma = ", ";
            text += "{\"container_port\": ";
            text += std::to_string(port.container_port);
            text += ", \"host_port\": ";
            text += std::to_string(port.host_port);
            text += ", \"protocol\": \"";
            text += protocol_name(port.protocol);
            text += '"';
            if (!port.host_ip.empty()) {
                text += ", \"host_ip\": ";
                text += json_string(port.host_ip);
            }
            text += '}';
        }
        text += "]}";
    }
    text += "\n}}\n";
    return text;
}

Result<StateFile> load_state(const std::string& path)
{
    auto text = read_file(path, state_cap);
    if (!text) {
        if (text.error().code == ENOENT)
            return StateFile{};
        return std::move(text).error().wrap("load net state");
    }
    auto state = parse_state(*text);
    if (!state)
        return std::move(state).error().wrap(berth::quoted(path));
    return state;
}

Result<void> save_state(const std::string& path, const StateFile& state)
{
    auto r = write_file_atomic(path, serialize_state(state));
    if (!r)
        return std::move(r).error().wrap("save net state");
    return {};
}

Result<void> check_task_id(std::string_view id)
{
    if (id.empty() || id.size() > 64 || id == "." || id == "..")
        return Error::invalid("task id ", quoted(id), ": must be 1..64 bytes, not . or ..");
    for (const char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok)
            return Error::invalid("task id ", quoted(id), ": only A-Z a-z 0-9 _ . - allowed");
    }
    return {};
}

std::string veth_name(std::uint32_t address)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string name = "bv";
    for (int shift = 28; shift >= 0; shift -= 4)
        name += hex[(address >> shift) & 0xf];
    return name;
}

} // namespace berth::net
