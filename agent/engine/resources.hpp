// agent/engine/resources.hpp — host capacity and what tasks hold of it, ECS-style: CPU in units
// of 1024 per core, memory in MiB (MemTotal minus ECS_RESERVED_MEMORY), TCP/UDP host ports minus
// ECS_RESERVED_PORTS(_UDP). A task that does not fit is refused with the ECS placement reason
// (RESOURCE:CPU, RESOURCE:MEMORY, RESOURCE:PORTS, RESOURCE:PORTS_UDP) as the first word of the
// error's context, errno ENOSPC (cpu, memory) or EADDRINUSE (ports). Pure bookkeeping, except
// read_host_capacity() which reads /proc/meminfo.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>
#include "base/result.hpp"

namespace berth::engine {

struct HostCapacity {
    std::uint64_t cpu_units = 0;  // 1024 per online CPU
    std::uint64_t memory_mib = 0; // MemTotal - reserved
    std::set<std::uint16_t> reserved_tcp;
    std::set<std::uint16_t> reserved_udp;
};

// MemTotal from /proc/meminfo's text, in MiB. EINVAL if absent or malformed.
Result<std::uint64_t> parse_meminfo_total_mib(std::string_view meminfo);
// Capacity from explicit numbers; EINVAL when the reservation exceeds the memory (ECS refuses
// to register such an instance).
Result<HostCapacity> host_capacity(unsigned cpus, std::uint64_t memory_total_mib,
                                   std::uint64_t reserved_memory_mib,
                                   std::set<std::uint16_t> reserved_tcp,
                                   std::set<std::uint16_t> reserved_udp);
// This host: online CPUs and /proc/meminfo.
Result<HostCapacity> read_host_capacity(std::uint64_t reserved_memory_mib,
                                        std::set<std::uint16_t> reserved_tcp,
                                        std::set<std::uint16_t> reserved_udp);

struct Demand { // what one task holds while admitted
    std::uint64_t cpu_units = 0;
    std::uint64_t memory_mib = 0;
    std::vector<std::uint16_t> tcp_ports; // static host ports (hostPort != 0)
    std::vector<std::uint16_t> udp_ports;
};
// The task's demand as ECS computes it: the task-level cpu/memory when set, otherwise the sum
// over containers of cpu and of memory (hard limit) or else memoryReservation.
struct ContainerDemand {
    std::uint64_t cpu_units = 0;
    std::optional<std::uint64_t> memory_mib;
    std::optional<std::uint64_t> memory_reservation_mib;
};
Demand task_demand(std::optional<std::uint64_t> task_cpu, std::optional<std::uint64_t> task_memory,
                   const std::vector<ContainerDemand>& containers);

class Ledger {
public:
    explicit Ledger(HostCapacity capacity) : capacity_(std::move(capacity)) {}
    // Admits `task` or refuses with the ECS reason; EEXIST if the task already holds resources.
    Result<void> reserve(const std::string& task, const Demand& demand);
    void release(const std::string& task); // unknown tasks are ignored (release is idempotent)
    std::uint64_t free_cpu_units() const;
    std::uint64_t free_memory_mib() const;
    const HostCapacity& capacity() const { return capacity_; }

private:
    HostCapacity capacity_;
    std::map<std::string, Demand> held_;
};

} // namespace berth::engine
