// cgroups/parse.cpp — pure parsers of kernel files and the v1 <-> v2 value conversions.
// Everything here is total over arbitrary input (fuzzed): bad text is an EINVAL Error.
#include <algorithm>
#include "cgroups/internal.hpp"

namespace berth::cgroups {

Result<std::vector<ProcCgroupLine>> parse_proc_cgroup(std::string_view content)
{
    std::vector<ProcCgroupLine> lines;
    unsigned number = 0;
    for (auto line : split(content, '\n')) {
        ++number;
        if (line.empty())
            continue;
        // "id:controllers:path"; the path itself may contain ':'.
        const auto first = line.find(':');
        const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
        if (second == std::string_view::npos)
            return Error::invalid("/proc/<pid>/cgroup line ", number, ": ", quoted(line),
                                  " is not id:controllers:path");
        auto id = parse_int<unsigned>(line.substr(0, first));
        if (!id)
            return Error::invalid("/proc/<pid>/cgroup line ", number, ": bad hierarchy id ",
                                  quoted(line.substr(0, first)));
        ProcCgroupLine entry;
        entry.hierarchy_id = *id;
        const auto controllers = line.substr(first + 1, second - first - 1);
        if (!controllers.empty())
            for (auto c : split(controllers, ','))
                entry.controllers.emplace_back(c);
        entry.path = std::string(line.substr(second + 1));
        if (entry.path.empty() || entry.path.front() != '/')
            return Error::invalid("/proc/<pid>/cgroup line ", number, ": path ", quoted(entry.path),
                                  " is not absolute");
        lines.push_back(std::move(entry));
    }
    return lines;
}

Result<std::map<std::string, std::uint64_t>> parse_flat_keyed(std::string_view content)
{
    std::map<std::string, std::uint64_t> values;
    unsigned number = 0;
    for (auto line : split(content, '\n')) {
        ++number;
        if (trim(line).empty())
            continue;
        const auto space = line.find(' ');
        if (space == std::string_view::npos || space == 0)
            return Error::invalid("line ", number, ": ", quoted(line), " is not 'key value'");
        auto value = parse_int<std::uint64_t>(trim(line.substr(space + 1)));
        if (!value)
            return Error::invalid("line ", number, ": value of ", quoted(line.substr(0, space)),
                                  " is not a number");
        values[std::string(line.substr(0, space))] = *value;
    }
    return values;
}

std::uint64_t shares_to_weight(std::uint64_t shares)
{
    if (shares == 0)
        return 0; // unset stays unset
    shares = std::clamp<std::uint64_t>(shares, 2, 262144);
    return 1 + ((shares - 2) * 9999) / 262142;
}

std::uint64_t blkio_weight_to_io_weight(std::uint64_t weight)
{
    if (weight == 0)
        return 0;
    weight = std::clamp<std::uint64_t>(weight, 10, 1000);
    return 1 + (weight - 10) * 9999 / 990;
}

Result<std::optional<std::int64_t>> swap_to_v2(std::optional<std::int64_t> swap,
                                               std::optional<std::int64_t> limit)
{
    const std::int64_t memory = limit.value_or(0);
    const std::int64_t memory_swap = swap.value_or(0);
    // An unlimited memory with no swap given means "both unlimited", as on v1.
    if (memory == -1 && memory_swap == 0)
        return std::optional<std::int64_t>(-1);
    if (memory_swap == 0)
        return std::optional<std::int64_t>();
    if (memory_swap == -1)
        return std::optional<std::int64_t>(-1);
    if (memory_swap < -1)
        return Error::invalid("memory.swap: invalid value ", memory_swap);
    if (memory == 0 || memory == -1)
        return Error::invalid("memory.swap: ", memory_swap,
                              " cannot be set without a memory limit");
    if (memory < 0)
        return Error::invalid("memory.limit: invalid value ", memory);
    if (memory_swap < memory)
        return Error::invalid("memory.swap: ", memory_swap, " (memory+swap) is below the memory",
                              " limit ", memory);
    return std::optional<std::int64_t>(memory_swap - memory);
}

Result<std::string> delegated_root(std::string_view proc_self_cgroup, std::string_view agent_leaf)
{
    auto lines = parse_proc_cgroup(proc_self_cgroup);
    if (!lines)
        return std::move(lines).error().wrap("delegated cgroup root");
    std::string unified, systemd;
    for (const auto& line : *lines) {
        if (line.hierarchy_id == 0 && line.controllers.empty())
            unified = line.path;
        else if (line.controllers.size() == 1 && line.controllers[0] == "name=systemd")
            systemd = line.path;
    }
    // On a hybrid host systemd tracks services in name=systemd; the v2 line is then "/" or a
    // copy of it.
    std::string own = (unified.empty() || (unified == "/" && !systemd.empty())) ? systemd : unified;
    if (own.empty())
        return Error::invalid(
            "delegated cgroup root: no v2 or name=systemd line in /proc/self/cgroup");
    const auto slash = own.rfind('/');
    if (!agent_leaf.empty() && own.substr(slash + 1) == agent_leaf)
        own = slash == 0 ? "/" : own.substr(0, slash);
    return own;
}

std::string_view mode_name(Mode mode)
{
    switch (mode) {
    case Mode::Unified: return "unified";
    case Mode::Hybrid: return "hybrid";
    case Mode::Legacy: return "legacy";
    }
    return "unknown";
}

} // namespace berth::cgroups

namespace berth::cgroups::internal {

// mountinfo escapes space, tab, newline and backslash as \ooo.
static std::string unescape_mount_field(std::string_view field)
{
    std::string out;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            auto code = parse_int<unsigned>(field.substr(i + 1, 3), 8);
            if (code && *code < 256) {
                out += static_cast<char>(*code);
                i += 3;
                continue;
            }
        }
        out += field[i];
    }
    return out;
}

Result<std::vector<MountEntry>> parse_mountinfo(std::string_view content)
{
    std::vector<MountEntry> entries;
    unsigned number = 0;
    for (auto line : split(content, '\n')) {
        ++number;
        if (trim(line).empty())
            continue;
        std::vector<std::string_view> fields;
        for (auto f : split(line, ' '))
            if (!f.empty())
                fields.push_back(f);
        // id parent major:minor root mount-point options [optional...] - fstype source super
        const auto dash = std::find(fields.begin(), fields.end(), std::string_view("-"));
        if (fields.size() < 6 || dash == fields.end() || fields.end() - dash < 3 ||
            dash - fields.begin() < 6)
            return Error::invalid("mountinfo line ", number, ": ", quoted(line),
                                  " has too few fields");
        MountEntry entry;
        entry.root = unescape_mount_field(fields[3]);
        entry.mount_point = unescape_mount_field(fields[4]);
        entry.fs_type = std::string(dash[1]);
        entry.super_options = dash + 3 < fields.end() ? std::string(dash[3]) : std::string();
        entries.push_back(std::move(entry));
    }
    return entries;
}

} // namespace berth::cgroups::internal
