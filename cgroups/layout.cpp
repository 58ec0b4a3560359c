// cgroups/layout.cpp — where one cgroup's directories are on this host, and the small-file
// reads every other file here uses.
#include <algorithm>
#include "base/files.hpp"
#include "cgroups/internal.hpp"

namespace berth::cgroups::internal {

namespace {
constexpr std::size_t small_file_cap = std::size_t{1024} * 1024; // memory.stat is a few KiB
}

Layout layout_for(const Host& host, const std::string& path)
{
    Layout layout;
    layout.host = host;
    layout.path = path;
    if (!host.unified_mount.empty())
        layout.v2_dir = host.unified_mount + (path == "/" ? "" : path);
    if (host.mode != Mode::Unified)
        for (const auto& [controller, mount] : host.v1_mounts)
            layout.v1_dirs[controller] = mount + (path == "/" ? "" : path);
    return layout;
}

std::vector<std::string> Layout::unique_v1_dirs() const
{
    std::vector<std::string> dirs;
    for (const auto& [controller, dir] : v1_dirs)
        if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end())
            dirs.push_back(dir);
    return dirs;
}

std::string Layout::procs_dir() const
{
    if (host.mode == Mode::Unified)
        return v2_dir;
    for (const char* controller : {"pids", "memory", "freezer", "cpu", "devices"})
        if (auto it = v1_dirs.find(controller); it != v1_dirs.end())
            return it->second;
    return v1_dirs.empty() ? v2_dir : v1_dirs.begin()->second;
}

Result<std::optional<std::string>> read_optional(const std::string& path)
{
    auto text = read_file(path, small_file_cap);
    if (!text) {
        if (text.error().code == ENOENT)
            return std::optional<std::string>();
        return std::move(text).error();
    }
    return std::optional<std::string>(std::move(*text));
}

Result<std::optional<std::uint64_t>> read_number(const std::string& path)
{
    auto text = read_optional(path);
    if (!text)
        return std::move(text).error();
    if (!*text || trim(**text) == "max")
        return std::optional<std::uint64_t>();
    auto value = parse_int<std::uint64_t>(trim(**text));
    if (!value)
        return Error::invalid(quoted(path), ": ", quoted(trim(**text)), " is not a number");
    return value;
}

Result<std::vector<pid_t>> read_procs(const std::string& dir)
{
    auto text = read_file(dir + "/cgroup.procs", small_file_cap);
    if (!text)
        return std::move(text).error();
    std::vector<pid_t> pids;
    for (auto line : split(*text, '\n')) {
        if (line.empty())
            continue;
        auto pid = parse_int<pid_t>(line);
        if (!pid)
            return Error::invalid(quoted(dir + "/cgroup.procs"), ": bad pid ", quoted(line));
        pids.push_back(*pid);
    }
    return pids;
}

} // namespace berth::cgroups::internal
