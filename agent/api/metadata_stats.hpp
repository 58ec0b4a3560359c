// agent/api/metadata_stats.hpp — Docker's stats JSON (what the ECS agent's /stats returns) from
// ContainerSamples, and the previous sample of each container that fills precpu_stats. Internal.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <nlohmann/json.hpp>
#include "agent/api/container_stats.hpp"

namespace berth::api {

// RFC 3339 with the fraction Go's RFC3339Nano prints (trailing zeros dropped), UTC.
std::string rfc3339_nano(std::chrono::system_clock::time_point t);
inline std::string rfc3339_ms(std::int64_t epoch_ms)
{
    return rfc3339_nano(std::chrono::system_clock::time_point(std::chrono::milliseconds(epoch_ms)));
}

// One container's stats: {read, preread, name, id, num_procs, pids_stats, blkio_stats,
// storage_stats, cpu_stats, precpu_stats, memory_stats, networks}; v4 adds
// network_rate_stats. previous: the sample before (nullptr: precpu_stats zero and preread
// Docker's zero time, as a first one-shot read shows).
nlohmann::json docker_stats(const ContainerSample& now, const ContainerSample* previous,
                            const std::string& id, const std::string& name, bool v4);

// The last sample of each container, by runtime id, on the metadata server's io thread only.
// Bounded: samples older than `keep` are dropped whenever one is added, and never more than
// `limit` kept (the oldest go first), so containers that went away cost nothing for long.
class StatsHistory {
public:
    explicit StatsHistory(std::chrono::seconds keep = std::chrono::minutes(10),
                          std::size_t limit = 4096)
        : keep_(keep), limit_(limit)
    {
    }
    // The previous sample of id (nullopt: none), then `now` becomes it.
    std::optional<ContainerSample> exchange(const std::string& id, const ContainerSample& now);
    std::size_t size() const { return samples_.size(); }

private:
    std::chrono::seconds keep_;
    std::size_t limit_;
    std::map<std::string, ContainerSample> samples_;
};

} // namespace berth::api
