// cgroups/stats.cpp — statistics for metrics: a handful of small file reads per cgroup, no
// directory walks, so every container can be sampled every second. A controller that is absent
// leaves its fields at zero.
#include <unistd.h>
#include "cgroups/internal.hpp"

namespace berth::cgroups::internal {

namespace {

using Keyed = std::map<std::string, std::uint64_t>;

Result<Keyed> read_keyed(const std::string& path)
{
    auto text = read_optional(path);
    if (!text)
        return std::move(text).error();
    if (!*text)
        return Keyed{};
    auto values = parse_flat_keyed(**text);
    if (!values)
        return std::move(values).error().wrap(quoted(path));
    return values;
}

// The first failure among several reads, or nullptr.
template <class... Results>
const Error* first_error(const Results&... results)
{
    const Error* error = nullptr;
    ((error = error ? error : (results ? nullptr : &results.error())), ...);
    return error;
}

std::uint64_t get(const Keyed& values, const char* key)
{
    auto it = values.find(key);
    return it == values.end() ? 0 : it->second;
}

// The memory figures both hierarchies have, under their v1 or v2 names: the working set is the
// usage less the inactive file cache, as docker stats and cAdvisor count it.
void set_memory(Stats& stats, std::uint64_t usage, std::uint64_t peak, std::uint64_t cache,
                std::uint64_t inactive_file)
{
    stats.memory_usage = usage;
    stats.memory_max_usage = peak;
    stats.memory_cache = cache;
    stats.memory_working_set = usage > inactive_file ? usage - inactive_file : 0;
}

// io.stat: "8:0 rbytes=1 wbytes=2 rios=3 ..." per device.
void sum_io_stat(std::string_view text, Stats& stats)
{
    for (auto line : split(text, '\n'))
        for (auto field : split(line, ' ')) {
            const auto equals = field.find('=');
            if (equals == std::string_view::npos)
                continue;
            auto value = parse_int<std::uint64_t>(field.substr(equals + 1));
            if (value && field.substr(0, equals) == "rbytes")
                stats.io_read_bytes += *value;
            else if (value && field.substr(0, equals) == "wbytes")
                stats.io_write_bytes += *value;
        }
}

// blkio.throttle.io_service_bytes: "8:0 Read 123" per device, then "Total N".
void sum_blkio(std::string_view text, Stats& stats)
{
    for (auto line : split(text, '\n')) {
        auto fields = split(line, ' ');
        if (fields.size() != 3)
            continue;
        auto value = parse_int<std::uint64_t>(fields[2]);
        if (value && fields[1] == "Read")
            stats.io_read_bytes += *value;
        else if (value && fields[1] == "Write")
            stats.io_write_bytes += *value;
    }
}

Result<void> read_v2(const std::string& dir, Stats& stats)
{
    auto cpu = read_keyed(dir + "/cpu.stat");
    auto memory = read_keyed(dir + "/memory.stat");
    auto events = read_keyed(dir + "/memory.events");
    auto current = read_number(dir + "/memory.current");
    auto max = read_number(dir + "/memory.max");
    auto peak = read_number(dir + "/memory.peak");
    auto pids = read_number(dir + "/pids.current");
    auto pids_max = read_number(dir + "/pids.max");
    auto io = read_optional(dir + "/io.stat");
    if (const Error* e = first_error(cpu, memory, events, current, max, peak, pids, pids_max, io))
        return *e;
    stats.cpu_usage_usec = get(*cpu, "usage_usec");
    stats.cpu_user_usec = get(*cpu, "user_usec");
    stats.cpu_system_usec = get(*cpu, "system_usec");
    stats.cpu_throttled_periods = get(*cpu, "nr_throttled");
    stats.cpu_throttled_usec = get(*cpu, "throttled_usec");
    set_memory(stats, current->value_or(0), peak->value_or(0), get(*memory, "file"),
               get(*memory, "inactive_file"));
    stats.memory_limit = max->value_or(0);
    stats.oom_events = get(*events, "oom");
    stats.oom_kill_events = get(*events, "oom_kill");
    stats.pids_current = pids->value_or(0);
    stats.pids_limit = pids_max->value_or(0);
    if (*io)
        sum_io_stat(**io, stats);
    return {};
}

std::string dir_of(const Layout& layout, const char* controller)
{
    auto it = layout.v1_dirs.find(controller);
    return it == layout.v1_dirs.end() ? std::string("/nonexistent") : it->second;
}

Result<void> read_v1(const Layout& layout, Stats& stats)
{
    const auto cpuacct = dir_of(layout, "cpuacct"), memory = dir_of(layout, "memory");
    const auto pids = dir_of(layout, "pids");
    auto usage = read_number(cpuacct + "/cpuacct.usage");       // ns
    auto ticks = read_keyed(cpuacct + "/cpuacct.stat");         // USER_HZ
    auto cpu = read_keyed(dir_of(layout, "cpu") + "/cpu.stat"); // throttled_time ns
    auto current = read_number(memory + "/memory.usage_in_bytes");
    auto limit = read_number(memory + "/memory.limit_in_bytes");
    auto peak = read_number(memory + "/memory.max_usage_in_bytes");
    auto stat = read_keyed(memory + "/memory.stat");
    auto oom = read_keyed(memory + "/memory.oom_control");
    auto pids_current = read_number(pids + "/pids.current");
    auto pids_max = read_number(pids + "/pids.max");
    auto io = read_optional(dir_of(layout, "blkio") + "/blkio.throttle.io_service_bytes_recursive");
    if (const Error* e = first_error(usage, ticks, cpu, current, limit, peak, stat, oom,
                                     pids_current, pids_max, io))
        return *e;
    const std::uint64_t hz = static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
    stats.cpu_usage_usec = usage->value_or(0) / 1000;
    stats.cpu_user_usec = get(*ticks, "user") * 1000000 / (hz ? hz : 100);
    stats.cpu_system_usec = get(*ticks, "system") * 1000000 / (hz ? hz : 100);
    stats.cpu_throttled_periods = get(*cpu, "nr_throttled");
    stats.cpu_throttled_usec = get(*cpu, "throttled_time") / 1000;
    set_memory(stats, current->value_or(0), peak->value_or(0), get(*stat, "total_cache"),
               get(*stat, "total_inactive_file"));
    // v1 reports "unlimited" as a page-rounded LONG_MAX: shown as 0, like v2's "max".
    stats.memory_limit = limit->value_or(0) >= (std::uint64_t(1) << 62) ? 0 : limit->value_or(0);
    stats.oom_kill_events = get(*oom, "oom_kill");
    stats.oom_events = stats.oom_kill_events; // v1 counts no separate "oom" events
    stats.pids_current = pids_current->value_or(0);
    stats.pids_limit = pids_max->value_or(0);
    if (*io)
        sum_blkio(**io, stats);
    return {};
}

} // namespace

Result<Stats> read_stats(const Layout& layout)
{
    Stats stats;
    auto r =
        layout.host.mode == Mode::Unified ? read_v2(layout.v2_dir, stats) : read_v1(layout, stats);
    if (!r)
        return std::move(r).error();
    return stats;
}

Result<std::uint64_t> read_oom_kills(const Layout& layout)
{
    const bool v1 = layout.host.mode != Mode::Unified && layout.v1_dirs.count("memory") != 0;
    const std::string file =
        v1 ? layout.v1_dirs.at("memory") + "/memory.oom_control" : layout.v2_dir + "/memory.events";
    auto values = read_keyed(file);
    if (!values)
        return std::move(values).error();
    return get(*values, "oom_kill");
}

} // namespace berth::cgroups::internal
