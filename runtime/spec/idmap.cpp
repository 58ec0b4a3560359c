// runtime/spec/idmap.cpp — /proc/<pid>/{uid,gid}_map text. The checks are the ones the kernel makes
// on write (map_write()), so a bad mapping fails at parse time with the line named instead of
// as a bare EINVAL from the kernel halfway through container setup.
#include <algorithm>
#include "runtime/spec.hpp"

namespace berth::runtime {

namespace {

constexpr std::size_t max_lines = 340; // the kernel's limit since 4.15 (UID_GID_MAP_MAX_EXTENTS)

Result<void> check_mappings(const std::vector<IdMapping>& mappings)
{
    if (mappings.size() > max_lines)
        return Error::invalid(mappings.size(), " id mappings, more than the kernel's limit of ",
                              max_lines);
    constexpr std::uint64_t id_space = std::uint64_t{1} << 32;
    for (std::size_t i = 0; i < mappings.size(); ++i) {
        const auto& m = mappings[i];
        if (m.size == 0)
            return Error::invalid("[", i, "]: size must not be zero");
        // -1 (4294967295) is never a valid id, so a range may reach up to it but not include it.
        if (std::uint64_t{m.container_id} + m.size >= id_space)
            return Error::invalid("[", i, "]: containerID ", m.container_id, " + size ", m.size,
                                  " overflows the id space");
        if (std::uint64_t{m.host_id} + m.size >= id_space)
            return Error::invalid("[", i, "]: hostID ", m.host_id, " + size ", m.size,
                                  " overflows the id space");
    }
    // The kernel refuses overlapping ranges on either side; sorted copies make this O(n log n).
    for (const bool host_side : {false, true}) {
        std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges; // first, end
        for (const auto& m : mappings) {
            const std::uint64_t first = host_side ? m.host_id : m.container_id;
            ranges.emplace_back(first, first + m.size);
        }
        std::sort(ranges.begin(), ranges.end());
        for (std::size_t i = 1; i < ranges.size(); ++i)
            if (ranges[i].first < ranges[i - 1].second)
                return Error::invalid(host_side ? "host" : "container", " id ranges overlap at ",
                                      ranges[i].first);
    }
    return {};
}

} // namespace

Result<std::string> format_id_map(const std::vector<IdMapping>& mappings)
{
    auto checked = check_mappings(mappings);
    if (!checked)
        return std::move(checked).error();
    std::string text;
    for (const auto& m : mappings)
        text += cat(m.container_id, ' ', m.host_id, ' ', m.size, '\n');
    return text;
}

Result<std::vector<IdMapping>> parse_id_map(std::string_view proc_text)
{
    std::vector<IdMapping> mappings;
    std::size_t line_number = 0;
    for (const auto line : split(proc_text, '\n')) {
        ++line_number;
        if (trim(line).empty())
            continue;
        if (mappings.size() == max_lines)
            return Error::invalid("id map has more than ", max_lines, " lines");
        // The kernel pads fields with spaces ("%10u %10u %10u"): split on runs of blanks.
        std::vector<std::string_view> fields;
        for (const auto field : split(line, ' '))
            if (!trim(field).empty())
                fields.push_back(trim(field));
        std::optional<std::uint32_t> ids[3];
        for (std::size_t i = 0; i < fields.size() && i < 3; ++i)
            ids[i] = parse_int<std::uint32_t>(fields[i]);
        if (fields.size() != 3 || !ids[0] || !ids[1] || !ids[2])
            return Error::invalid("id map line ", line_number, ": expected three ids, got ",
                                  berth::quoted(line));
        mappings.push_back({*ids[0], *ids[1], *ids[2]});
    }
    auto checked = check_mappings(mappings);
    if (!checked)
        return std::move(checked).error().wrap("id map");
    return mappings;
}

} // namespace berth::runtime
