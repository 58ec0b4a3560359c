// cgroups/stats_detail.cpp — StatsDetail: what Docker's stats API shows beyond Stats (per-CPU
// usage, memory.stat whole, block I/O per device), for the task metadata endpoint's /stats.
// Read on request only (a handful of small files), never walked.
#include <map>
#include "cgroups/cgroup_impl.hpp"

namespace berth::cgroups {
namespace internal {
namespace {

using Device = StatsDetail::Device;

// "8:0" -> {8, 0}; nullopt for anything else.
std::optional<std::pair<std::uint32_t, std::uint32_t>> device_of(std::string_view text)
{
    const auto colon = text.find(':');
    if (colon == std::string_view::npos)
        return std::nullopt;
    auto major = parse_int<std::uint32_t>(text.substr(0, colon));
    auto minor = parse_int<std::uint32_t>(text.substr(colon + 1));
    if (!major || !minor)
        return std::nullopt;
    return std::pair{*major, *minor};
}

Device& device_entry(std::vector<Device>& devices, std::uint32_t major, std::uint32_t minor)
{
    for (auto& d : devices)
        if (d.major == major && d.minor == minor)
            return d;
    devices.push_back(Device{major, minor});
    return devices.back();
}

Result<std::map<std::string, std::uint64_t>> read_keyed_file(const std::string& path)
{
    auto text = read_optional(path);
    if (!text)
        return std::move(text).error();
    if (!*text)
        return std::map<std::string, std::uint64_t>{};
    auto values = parse_flat_keyed(**text);
    if (!values)
        return std::move(values).error().wrap(quoted(path));
    return values;
}

std::string v1_dir(const Layout& layout, const char* controller)
{
    auto it = layout.v1_dirs.find(controller);
    return it == layout.v1_dirs.end() ? std::string("/nonexistent") : it->second;
}

} // namespace

std::vector<Device> parse_io_stat_devices(std::string_view text)
{
    std::vector<Device> devices;
    for (auto line : split(text, '\n')) {
        auto fields = split(line, ' ');
        if (fields.empty())
            continue;
        const auto dev = device_of(fields[0]);
        if (!dev)
            continue;
        auto& d = device_entry(devices, dev->first, dev->second);
        for (std::size_t i = 1; i < fields.size(); ++i) {
            const auto equals = fields[i].find('=');
            if (equals == std::string_view::npos)
                continue;
            const auto key = fields[i].substr(0, equals);
            const auto value = parse_int<std::uint64_t>(fields[i].substr(equals + 1));
            if (!value)
                continue;
            if (key == "rbytes")
                d.read_bytes = *value;
            else if (key == "wbytes")
                d.write_bytes = *value;
            else if (key == "rios")
                d.reads = *value;
            else if (key == "wios")
                d.writes = *value;
        }
    }
    return devices;
}

void parse_blkio_devices(std::string_view text, bool bytes, std::vector<Device>& devices)
{
    for (auto line : split(text, '\n')) {
        auto fields = split(line, ' ');
        if (fields.size() != 3)
            continue; // "Total N" and blank lines
        const auto dev = device_of(fields[0]);
        const auto value = parse_int<std::uint64_t>(fields[2]);
        if (!dev || !value || (fields[1] != "Read" && fields[1] != "Write"))
            continue;
        auto& d = device_entry(devices, dev->first, dev->second);
        const bool read = fields[1] == "Read";
        (bytes ? (read ? d.read_bytes : d.write_bytes) : (read ? d.reads : d.writes)) = *value;
    }
}

std::vector<std::uint64_t> parse_percpu(std::string_view text)
{
    std::vector<std::uint64_t> out;
    for (auto field : split(trim(text), ' '))
        if (auto value = parse_int<std::uint64_t>(field))
            out.push_back(*value);
    return out;
}

Result<StatsDetail> read_stats_detail(const Layout& layout)
{
    StatsDetail detail;
    const bool v2 = layout.host.mode == Mode::Unified;
    const auto memory_dir = v2 ? layout.v2_dir : v1_dir(layout, "memory");
    auto memory = read_keyed_file(memory_dir + "/memory.stat");
    if (!memory)
        return std::move(memory).error();
    detail.memory_stat = std::move(*memory);
    auto cpu = read_keyed_file((v2 ? layout.v2_dir : v1_dir(layout, "cpu")) + "/cpu.stat");
    if (!cpu)
        return std::move(cpu).error();
    if (auto it = cpu->find("nr_periods"); it != cpu->end())
        detail.cpu_periods = it->second;
    if (v2) {
        auto io = read_optional(layout.v2_dir + "/io.stat");
        if (!io)
            return std::move(io).error();
        if (*io)
            detail.devices = parse_io_stat_devices(**io);
        return detail;
    }
    auto percpu = read_optional(v1_dir(layout, "cpuacct") + "/cpuacct.usage_percpu");
    const auto blkio = v1_dir(layout, "blkio");
    auto bytes = read_optional(blkio + "/blkio.throttle.io_service_bytes_recursive");
    auto ios = read_optional(blkio + "/blkio.throttle.io_serviced_recursive");
    for (const auto* r : {&percpu, &bytes, &ios})
        if (!*r)
            return r->error();
    if (*percpu)
        detail.percpu_usage_ns = parse_percpu(**percpu);
    if (*bytes)
        parse_blkio_devices(**bytes, true, detail.devices);
    if (*ios)
        parse_blkio_devices(**ios, false, detail.devices);
    return detail;
}

} // namespace internal

Result<StatsDetail> Cgroup::stats_detail() const
{
    auto detail = internal::read_stats_detail(impl_->layout);
    if (!detail)
        return std::move(detail).error().wrap(cat("read statistics of cgroup ", quoted(path())));
    return detail;
}

} // namespace berth::cgroups
