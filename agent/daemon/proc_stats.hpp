// agent/daemon/proc_stats.hpp — what berthd reads from /proc: the figures a container's
// statistics sample adds to its cgroup's (metadata_detail.cpp: the host's CPU time, as Docker's
// system_cpu_usage counts it, and a network namespace's interface counters), and a process's
// start time, which with the boot id identifies berth-supervisor across pid reuse
// (supervisor.cpp). Pure parsers, so tests feed them text. Internal.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "agent/api/api.hpp"
#include "base/result.hpp"

namespace berth::daemon {

// /proc/stat's "cpu" line: user+nice+system+idle+iowait+irq+softirq+steal ticks, in ns
// (Docker's getSystemCPUUsage). EINVAL when the line is missing or malformed.
Result<std::uint64_t> system_cpu_ns(std::string_view proc_stat, long ticks_per_second);

// /proc/<pid>/stat's starttime (field 22, clock ticks since boot): with the boot id, what tells
// a process from a later one that reuses its pid. nullopt when the text does not read.
std::optional<std::uint64_t> proc_start_time(std::string_view stat);

// berth-supervisor's pid file: "<pid>\n<starttime>\n<boot id>\n" (the last two lines absent in
// files older builds wrote). nullopt when the pid does not read.
struct PidRecord {
    long pid = 0;
    std::optional<std::uint64_t> start_time;
    std::string boot_id;
};
std::optional<PidRecord> parse_pid_record(std::string_view text);
std::string pid_record_text(const PidRecord& record);

// /proc/<pid>/net/dev: every interface but "lo" (Docker shows a container's own interfaces).
// Lines that do not read (the two headers) are skipped.
std::vector<api::ContainerSample::Interface> net_dev_interfaces(std::string_view net_dev);

} // namespace berth::daemon
