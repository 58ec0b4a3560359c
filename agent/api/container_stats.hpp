// agent/api/container_stats.hpp — what the task engine tells the task metadata endpoint about a
// container beyond the store's rows: its image id and lifecycle times (ImageID, CreatedAt,
// StartedAt, FinishedAt), and one statistics sample (the numbers Docker's stats API shows; the
// endpoint shapes them, metadata_stats.cpp). Plain data: agent/daemon fills it from the runtime,
// cgroups and /proc, so agent/api needs none of them. Part of api.hpp's ControlPlane seam.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::api {

struct ContainerDetail {
    std::string name;
    std::string image_id; // "sha256:<config digest>"; "" while the image is not resolved
    // Epoch milliseconds; nullopt: not (yet) happened, or not known (a record older than them).
    std::optional<std::int64_t> created_at, started_at, finished_at;
};

struct ContainerSample {
    std::chrono::system_clock::time_point read;
    // CPU, nanoseconds. percpu_usage only where the kernel counts it per CPU (cgroup v1's
    // cpuacct.usage_percpu); empty on v2, as Docker shows it there.
    std::uint64_t cpu_total = 0, cpu_user = 0, cpu_system = 0;
    std::vector<std::uint64_t> percpu_usage;
    std::uint64_t system_cpu_usage = 0; // the host's, from /proc/stat, as Docker counts it
    std::uint32_t online_cpus = 0;
    std::uint64_t cpu_periods = 0, throttled_periods = 0, throttled_time = 0;
    // Memory, bytes; limit is the host's memory when the cgroup has none (as Docker shows it).
    std::uint64_t memory_usage = 0, memory_max_usage = 0, memory_limit = 0;
    std::map<std::string, std::uint64_t> memory_stat; // memory.stat as the kernel writes it
    std::uint64_t pids_current = 0, pids_limit = 0;   // limit 0: unlimited
    struct Device {
        std::uint32_t major = 0, minor = 0;
        std::uint64_t read_bytes = 0, write_bytes = 0, reads = 0, writes = 0;
    };
    std::vector<Device> block_io;
    struct Interface {
        std::string name;
        std::uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
        std::uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
    };
    std::vector<Interface> networks; // the task's netns (bridge, awsvpc); empty for host/none
};

} // namespace berth::api
