// agent/api/metadata_stats.cpp — Docker's container stats JSON (the Engine API's ContainerStats,
// types.StatsJSON), which the ECS agent's task metadata /stats and /task/stats return, from the
// engine's ContainerSample. v4 adds network_rate_stats (bytes per second since the previous
// sample, as the ECS agent computes them). Fields berth cannot measure keep Docker's zero values.
#include <cstdio>
#include <ctime>
#include <iterator>
#include <tuple>
#include "agent/api/metadata_stats.hpp"

namespace berth::api {

using nlohmann::json;

std::string rfc3339_nano(std::chrono::system_clock::time_point t)
{
    const auto since = t.time_since_epoch();
    auto seconds = std::chrono::floor<std::chrono::seconds>(since);
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since - seconds);
    const std::time_t whole = seconds.count();
    std::tm tm{};
    ::gmtime_r(&whole, &tm);
    char text[40];
    auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out(text, n);
    if (nanos.count() != 0) {
        char fraction[16];
        std::snprintf(fraction, sizeof fraction, ".%09lld", static_cast<long long>(nanos.count()));
        std::string f(fraction);
        while (f.back() == '0')
            f.pop_back();
        out += f;
    }
    return out + "Z";
}

namespace {

constexpr const char* zero_time = "0001-01-01T00:00:00Z"; // Go's zero time, as Docker prints it

json cpu_stats(const ContainerSample* s)
{
    if (!s)
        return {
            {"cpu_usage",
             {{"total_usage", 0}, {"usage_in_kernelmode", 0}, {"usage_in_usermode", 0}}},
            {"throttling_data", {{"periods", 0}, {"throttled_periods", 0}, {"throttled_time", 0}}}};
    json usage = {{"total_usage", s->cpu_total},
                  {"usage_in_kernelmode", s->cpu_system},
                  {"usage_in_usermode", s->cpu_user}};
    if (!s->percpu_usage.empty())
        usage["percpu_usage"] = s->percpu_usage;
    return {{"cpu_usage", std::move(usage)},
            {"system_cpu_usage", s->system_cpu_usage},
            {"online_cpus", s->online_cpus},
            {"throttling_data",
             {{"periods", s->cpu_periods},
              {"throttled_periods", s->throttled_periods},
              {"throttled_time", s->throttled_time}}}};
}

json blkio_stats(const ContainerSample& s)
{
    json bytes = json::array(), ios = json::array();
    for (const auto& d : s.block_io)
        for (const auto& [op, byte_count, count] : {std::tuple{"read", d.read_bytes, d.reads},
                                                    std::tuple{"write", d.write_bytes, d.writes}}) {
            bytes.push_back(
                {{"major", d.major}, {"minor", d.minor}, {"op", op}, {"value", byte_count}});
            ios.push_back({{"major", d.major}, {"minor", d.minor}, {"op", op}, {"value", count}});
        }
    // The other lists are cgroup v1 CFQ figures no current kernel keeps: null, as Docker shows.
    return {{"io_service_bytes_recursive", std::move(bytes)},
            {"io_serviced_recursive", std::move(ios)},
            {"io_queue_recursive", nullptr},
            {"io_service_time_recursive", nullptr},
            {"io_wait_time_recursive", nullptr},
            {"io_merged_recursive", nullptr},
            {"io_time_recursive", nullptr},
            {"sectors_recursive", nullptr}};
}

json networks(const ContainerSample& s)
{
    json out = json::object();
    for (const auto& i : s.networks)
        out[i.name] = {{"rx_bytes", i.rx_bytes},   {"rx_packets", i.rx_packets},
                       {"rx_errors", i.rx_errors}, {"rx_dropped", i.rx_dropped},
                       {"tx_bytes", i.tx_bytes},   {"tx_packets", i.tx_packets},
                       {"tx_errors", i.tx_errors}, {"tx_dropped", i.tx_dropped}};
    return out;
}

std::pair<std::uint64_t, std::uint64_t> rx_tx(const ContainerSample& s)
{
    std::uint64_t rx = 0, tx = 0;
    for (const auto& i : s.networks) {
        rx += i.rx_bytes;
        tx += i.tx_bytes;
    }
    return {rx, tx};
}

json network_rate(const ContainerSample& now, const ContainerSample* previous)
{
    if (!previous || now.read <= previous->read)
        return {{"rx_bytes_per_sec", 0.0}, {"tx_bytes_per_sec", 0.0}};
    const double seconds = std::chrono::duration<double>(now.read - previous->read).count();
    const auto [rx, tx] = rx_tx(now);
    const auto [prx, ptx] = rx_tx(*previous);
    // Counters that went back (an interface re-made) give 0, never a negative rate.
    return {{"rx_bytes_per_sec", rx >= prx ? static_cast<double>(rx - prx) / seconds : 0.0},
            {"tx_bytes_per_sec", tx >= ptx ? static_cast<double>(tx - ptx) / seconds : 0.0}};
}

} // namespace

json docker_stats(const ContainerSample& now, const ContainerSample* previous,
                  const std::string& id, const std::string& name, bool v4)
{
    json pids = {{"current", now.pids_current}};
    if (now.pids_limit != 0)
        pids["limit"] = now.pids_limit;
    json out = {{"read", rfc3339_nano(now.read)},
                {"preread", previous ? rfc3339_nano(previous->read) : std::string(zero_time)},
                {"name", "/" + name},
                {"id", id},
                {"num_procs", 0},
                {"pids_stats", std::move(pids)},
                {"blkio_stats", blkio_stats(now)},
                {"storage_stats", json::object()},
                {"cpu_stats", cpu_stats(&now)},
                {"precpu_stats", cpu_stats(previous)},
                {"memory_stats",
                 {{"usage", now.memory_usage},
                  {"max_usage", now.memory_max_usage},
                  {"stats", now.memory_stat},
                  {"limit", now.memory_limit}}}};
    if (!now.networks.empty())
        out["networks"] = networks(now);
    if (v4)
        out["network_rate_stats"] = network_rate(now, previous);
    return out;
}

std::optional<ContainerSample> StatsHistory::exchange(const std::string& id,
                                                      const ContainerSample& now)
{
    std::optional<ContainerSample> previous;
    if (auto it = samples_.find(id); it != samples_.end())
        previous = std::move(it->second);
    for (auto it = samples_.begin(); it != samples_.end();)
        it = now.read - it->second.read > keep_ ? samples_.erase(it) : std::next(it);
    while (samples_.size() >= limit_ && !samples_.empty()) {
        auto oldest = samples_.begin();
        for (auto it = samples_.begin(); it != samples_.end(); ++it)
            if (it->second.read < oldest->second.read)
                oldest = it;
        samples_.erase(oldest);
    }
    samples_[id] = now;
    return previous;
}

} // namespace berth::api
