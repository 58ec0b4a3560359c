// Host port choice. A chosen port is held by a bound socket in the host netns until its DNAT
// exists, so no other process can take it between the choice and the rule (the ECS agent's
// probe-then-bind race). The dynamic range defaults to ports the kernel never hands out as
// ephemeral source ports (outside ip_local_port_range), so connections cannot collide with it.
#include <netinet/in.h>
#include <sys/socket.h>
#include <algorithm>
#include <set>
#include <utility>
#include "base/files.hpp"
#include "net/internal.hpp"

namespace berth::net {

namespace {

// The ECS agent's own reserved list: ssh, the Docker API, the agent's introspection ports.
constexpr std::uint16_t always_reserved[] = {22, 2375, 2376, 51678, 51679, 51680};

using Key = std::pair<Protocol, std::uint16_t>;

// Binds a socket to host_ip:port (any address if host_ip is empty). EADDRINUSE: taken.
Result<Fd> hold_port(Protocol protocol, const std::string& host_ip, std::uint16_t port)
{
    const int type = protocol == Protocol::Tcp ? SOCK_STREAM : SOCK_DGRAM;
    Fd socket(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    if (!socket.valid())
        return Error::from_errno("socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    std::uint32_t ip = INADDR_ANY;
    if (!host_ip.empty()) {
        auto parsed = parse_ipv4(host_ip);
        if (!parsed)
            return std::move(parsed).error();
        ip = *parsed;
    }
    address.sin_addr.s_addr = htonl(ip);
    if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0)
        return Error::from_errno("bind ", host_ip.empty() ? "0.0.0.0" : host_ip, ":", port, "/",
                                 protocol_name(protocol));
    return socket;
}

std::set<Key> ports_in_use(const StateFile& state)
{
    // Conservative: a port mapped on one host IP counts as used on all of them.
    std::set<Key> used;
    for (const auto& [id, task] : state.tasks)
        for (const auto& port : task.ports)
            if (task.mode == Mode::Bridge)
                used.emplace(port.protocol, port.host_port);
    return used;
}

} // namespace

PortAllocator::PortAllocator(PortRange range, std::vector<std::uint16_t> reserved)
    : range_(range), reserved_(std::move(reserved))
{
    reserved_.insert(reserved_.end(), std::begin(always_reserved), std::end(always_reserved));
}

bool PortAllocator::reserved(std::uint16_t port) const
{
    return std::find(reserved_.begin(), reserved_.end(), port) != reserved_.end();
}

PortRange PortAllocator::default_range()
{
    std::uint32_t low = 32768;
    std::uint32_t high = 60999;
    if (auto text = read_file("/proc/sys/net/ipv4/ip_local_port_range", 256)) {
        auto fields = split(trim(*text), '\t'); // views into *text, which outlives them
        if (fields.size() == 2) {
            low = parse_int<std::uint32_t>(trim(fields[0])).value_or(low);
            high = parse_int<std::uint32_t>(trim(fields[1])).value_or(high);
        }
    }
    if (high < 65535 - 1000)
        return {static_cast<std::uint16_t>(high + 1), 65535};
    const std::uint32_t last = std::max<std::uint32_t>(low, 2049) - 1;
    return {static_cast<std::uint16_t>(std::max<std::uint32_t>(1024, last - 8191)),
            static_cast<std::uint16_t>(last)};
}

Result<std::vector<PortMapping>> PortAllocator::assign(const std::vector<PortMapping>& wanted,
                                                       const StateFile& state,
                                                       std::vector<Fd>& held)
{
    std::set<Key> used = ports_in_use(state);
    std::vector<PortMapping> result;
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        PortMapping port = wanted[i];
        const std::string where = cat("portMappings[", i, "]");
        if (port.container_port == 0)
            return Error::invalid(where, ": containerPort must be 1..65535");
        if (port.host_ip == "0.0.0.0")
            port.host_ip.clear();
        if (!port.host_ip.empty() && !parse_ipv4(port.host_ip))
            return Error::invalid(where, ": hostIp ", quoted(port.host_ip), " is not IPv4");
        if (port.host_port != 0) {
            if (reserved(port.host_port))
                return Error::invalid(where, ": host port ", port.host_port, " is reserved");
            if (used.count({port.protocol, port.host_port}) != 0)
                return Error::with_code(EADDRINUSE, where, ": host port ", port.host_port, "/",
                                        protocol_name(port.protocol), " is already mapped");
            auto socket = hold_port(port.protocol, port.host_ip, port.host_port);
            if (!socket)
                return std::move(socket).error().wrap(cat(where, ": static host port"));
            held.push_back(std::move(*socket));
        } else {
            auto chosen = pick(port, used, held);
            if (!chosen)
                return std::move(chosen).error().wrap(where);
            port.host_port = *chosen;
        }
        used.emplace(port.protocol, port.host_port);
        result.push_back(std::move(port));
    }
    return result;
}

Result<std::uint16_t> PortAllocator::pick(const PortMapping& port, const std::set<Key>& used,
                                          std::vector<Fd>& held)
{
    const std::uint32_t count = std::uint32_t{range_.last} - range_.first + 1;
    for (std::uint32_t i = 0; i < count; ++i) {
        const auto candidate = static_cast<std::uint16_t>(range_.first + (cursor_ + i) % count);
        if (reserved(candidate) || used.count({port.protocol, candidate}) != 0)
            continue;
        auto socket = hold_port(port.protocol, port.host_ip, candidate);
        if (!socket) {
            if (socket.error().code == EADDRINUSE)
                continue; // some other program has it; the next one
            return std::move(socket).error();
        }
        held.push_back(std::move(*socket));
        cursor_ = (candidate - range_.first + 1U) % count;
        return candidate;
    }
    return Error::with_code(ENOSPC, "dynamic host port range ", range_.first, "-", range_.last,
                            " is exhausted for ", protocol_name(port.protocol));
}

} // namespace berth::net
