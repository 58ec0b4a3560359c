// agent/engine/resources.cpp — host capacity and the admission ledger. The figures follow the
// ECS agent's registration (agent/app/agent.go, api/ecsclient getResources): CPU = CPUs x 1024,
// MEMORY = MemTotal MiB - ECS_RESERVED_MEMORY, PORTS = the reserved ports; a task is placed only
// where its cpu, memory and static host ports fit, else the ECS reason RESOURCE:<name>.
#include "agent/engine/resources.hpp"
#include <algorithm>
#include <cerrno>
#include <unistd.h>
#include "base/files.hpp"
#include "base/strings.hpp"

namespace berth::engine {

Result<std::uint64_t> parse_meminfo_total_mib(std::string_view meminfo)
{
    for (auto line : split(meminfo, '\n')) {
        if (line.substr(0, 9) != "MemTotal:")
            continue;
        auto rest = trim(line.substr(9));
        if (rest.size() < 3 || rest.substr(rest.size() - 3) != " kB")
            return Error::invalid("/proc/meminfo: MemTotal ", quoted(rest), " is not in kB");
        auto kib = parse_int<std::uint64_t>(trim(rest.substr(0, rest.size() - 3)));
        if (!kib)
            return Error::invalid("/proc/meminfo: MemTotal ", quoted(rest), " is not a number");
        return *kib / 1024;
    }
    return Error::invalid("/proc/meminfo: no MemTotal line");
}

Result<HostCapacity> host_capacity(unsigned cpus, std::uint64_t memory_total_mib,
                                   std::uint64_t reserved_memory_mib,
                                   std::set<std::uint16_t> reserved_tcp,
                                   std::set<std::uint16_t> reserved_udp)
{
    if (reserved_memory_mib > memory_total_mib)
        return Error::invalid("ECS_RESERVED_MEMORY ", reserved_memory_mib,
                              " MiB exceeds the host's memory of ", memory_total_mib, " MiB");
    if (cpus == 0)
        return Error::invalid("host capacity: no online CPU");
    return HostCapacity{std::uint64_t{cpus} * 1024, memory_total_mib - reserved_memory_mib,
                        std::move(reserved_tcp), std::move(reserved_udp)};
}

Result<HostCapacity> read_host_capacity(std::uint64_t reserved_memory_mib,
                                        std::set<std::uint16_t> reserved_tcp,
                                        std::set<std::uint16_t> reserved_udp)
{
    auto text = read_file("/proc/meminfo", std::size_t{64} * 1024);
    if (!text)
        return std::move(text).error().wrap("host capacity");
    auto total = parse_meminfo_total_mib(*text);
    if (!total)
        return std::move(total).error();
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus <= 0)
        return Error::from_errno("host capacity: sysconf(_SC_NPROCESSORS_ONLN)");
    return host_capacity(static_cast<unsigned>(cpus), *total, reserved_memory_mib,
                         std::move(reserved_tcp), std::move(reserved_udp));
}

Demand task_demand(std::optional<std::uint64_t> task_cpu, std::optional<std::uint64_t> task_memory,
                   const std::vector<ContainerDemand>& containers)
{
    Demand d;
    for (const auto& c : containers) {
        d.cpu_units += c.cpu_units;
        d.memory_mib += c.memory_mib.value_or(c.memory_reservation_mib.value_or(0));
    }
    if (task_cpu)
        d.cpu_units = *task_cpu;
    if (task_memory)
        d.memory_mib = *task_memory;
    return d;
}

std::uint64_t Ledger::free_cpu_units() const
{
    std::uint64_t used = 0;
    for (const auto& [task, d] : held_)
        used += d.cpu_units;
    return capacity_.cpu_units - std::min(used, capacity_.cpu_units);
}

std::uint64_t Ledger::free_memory_mib() const
{
    std::uint64_t used = 0;
    for (const auto& [task, d] : held_)
        used += d.memory_mib;
    return capacity_.memory_mib - std::min(used, capacity_.memory_mib);
}

namespace {

// The first of `wanted` that is reserved, held by another task, or asked twice.
std::optional<std::uint16_t> port_clash(const std::vector<std::uint16_t>& wanted,
                                        const std::set<std::uint16_t>& reserved,
                                        const std::map<std::string, Demand>& held, bool tcp)
{
    std::set<std::uint16_t> seen;
    for (auto p : wanted) {
        if (reserved.count(p) != 0 || !seen.insert(p).second)
            return p;
        for (const auto& [task, d] : held) {
            const auto& ports = tcp ? d.tcp_ports : d.udp_ports;
            if (std::find(ports.begin(), ports.end(), p) != ports.end())
                return p;
        }
    }
    return std::nullopt;
}

} // namespace

Result<void> Ledger::reserve(const std::string& task, const Demand& demand)
{
    if (held_.count(task) != 0)
        return Error::with_code(EEXIST, "task ", quoted(task), " already holds resources");
    if (demand.cpu_units > free_cpu_units())
        return Error::with_code(ENOSPC, "RESOURCE:CPU (task needs ", demand.cpu_units,
                                " CPU units, ", free_cpu_units(), " of ", capacity_.cpu_units,
                                " free)");
    if (demand.memory_mib > free_memory_mib())
        return Error::with_code(ENOSPC, "RESOURCE:MEMORY (task needs ", demand.memory_mib, " MiB, ",
                                free_memory_mib(), " of ", capacity_.memory_mib, " MiB free)");
    if (auto p = port_clash(demand.tcp_ports, capacity_.reserved_tcp, held_, true))
        return Error::with_code(EADDRINUSE, "RESOURCE:PORTS (host port ", *p,
                                "/tcp is reserved or in use)");
    if (auto p = port_clash(demand.udp_ports, capacity_.reserved_udp, held_, false))
        return Error::with_code(EADDRINUSE, "RESOURCE:PORTS_UDP (host port ", *p,
                                "/udp is reserved or in use)");
    held_.emplace(task, demand);
    return {};
}

void Ledger::release(const std::string& task)
{
    held_.erase(task);
}

} // namespace berth::engine
