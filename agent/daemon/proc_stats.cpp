// agent/daemon/proc_stats.cpp — parsers of /proc/stat and /proc/<pid>/net/dev (proc_stats.hpp).
#include "agent/daemon/proc_stats.hpp"
#include "base/strings.hpp"

namespace berth::daemon {
namespace {

// Whitespace-separated fields (the kernel pads these files with runs of spaces).
std::vector<std::string_view> fields_of(std::string_view line)
{
    std::vector<std::string_view> out;
    for (auto field : split(line, ' '))
        if (!field.empty())
            out.push_back(field);
    return out;
}

} // namespace

Result<std::uint64_t> system_cpu_ns(std::string_view proc_stat, long ticks_per_second)
{
    if (ticks_per_second <= 0)
        return Error::invalid("clock ticks per second: ", ticks_per_second);
    for (auto line : split(proc_stat, '\n')) {
        auto fields = fields_of(line);
        if (fields.empty() || fields[0] != "cpu")
            continue;
        if (fields.size() < 8)
            return Error::invalid("/proc/stat: the cpu line has ", fields.size() - 1,
                                  " fields, 7 expected");
        // user, nice, system, idle, iowait, irq, softirq: Docker's sum (steal is not counted),
        // so that clients compute the same CPU % from berth's figures as from Docker's.
        std::uint64_t ticks = 0;
        for (std::size_t i = 1; i <= 7; ++i) {
            auto value = parse_int<std::uint64_t>(fields[i]);
            if (!value)
                return Error::invalid("/proc/stat: cpu field ", i, " is not a number");
            ticks += *value;
        }
        return ticks * (1'000'000'000 / static_cast<std::uint64_t>(ticks_per_second));
    }
    return Error::invalid("/proc/stat: no cpu line");
}

std::vector<api::ContainerSample::Interface> net_dev_interfaces(std::string_view net_dev)
{
    std::vector<api::ContainerSample::Interface> out;
    for (auto line : split(net_dev, '\n')) {
        const auto colon = line.find(':');
        if (colon == std::string_view::npos)
            continue;
        const auto name = trim(line.substr(0, colon));
        auto fields = fields_of(line.substr(colon + 1));
        // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets errs
        // drop fifo colls carrier compressed.
        if (name.empty() || name == "lo" || fields.size() < 16)
            continue;
        std::uint64_t v[16] = {};
        bool ok = true;
        for (std::size_t i = 0; i < 16 && ok; ++i) {
            auto value = parse_int<std::uint64_t>(fields[i]);
            ok = value.has_value();
            v[i] = value.value_or(0);
        }
        if (!ok)
            continue;
        out.push_back({std::string(name), v[0], v[1], v[2], v[3], v[8], v[9], v[10], v[11]});
    }
    return out;
}

std::optional<std::uint64_t> proc_start_time(std::string_view stat)
{
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    const auto close = stat.rfind(')');
    if (close == std::string_view::npos)
        return std::nullopt;
    const auto fields = fields_of(stat.substr(close + 1));
    constexpr std::size_t starttime = 22 - 3; // fields_of starts at field 3 (state)
    if (fields.size() <= starttime)
        return std::nullopt;
    return parse_int<std::uint64_t>(trim(fields[starttime]));
}

std::optional<PidRecord> parse_pid_record(std::string_view text)
{
    const auto lines = split(text, '\n');
    if (lines.empty())
        return std::nullopt;
    const auto pid = parse_int<long>(trim(lines[0]));
    if (!pid || *pid <= 0)
        return std::nullopt;
    PidRecord record{*pid, std::nullopt, ""};
    if (lines.size() >= 3) {
        record.start_time = parse_int<std::uint64_t>(trim(lines[1]));
        record.boot_id = std::string(trim(lines[2]));
    }
    return record;
}

std::string pid_record_text(const PidRecord& record)
{
    return cat(record.pid, "\n", record.start_time.value_or(0), "\n", record.boot_id, "\n");
}

} // namespace berth::daemon
