// cgroups/layout.cpp — where one cgroup's directories are on this host, what is below them
// (child_cgroups), and the small-file reads every other file here uses.
#include <dirent.h>
#include <algorithm>
#include <set>
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

namespace berth::cgroups {

namespace {

// The subdirectories of dir (each a child cgroup) added to names; a dir that does not exist
// has none.
Result<void> add_children(const std::string& dir, std::set<std::string>& names)
{
    DIR* stream = ::opendir(dir.c_str());
    if (stream == nullptr) {
        if (errno == ENOENT)
            return {};
        return Error::from_errno("open cgroup directory ", quoted(dir));
    }
    while (const dirent* entry = ::readdir(stream)) {
        const std::string_view name = entry->d_name;
        if (entry->d_type == DT_DIR && name != "." && name != "..")
            names.emplace(name);
    }
    ::closedir(stream);
    return {};
}

} // namespace

Result<std::vector<std::string>> child_cgroups(const std::string& path)
{
    auto normalized = normalize_path(path, true);
    if (!normalized)
        return std::move(normalized).error().wrap("list child cgroups");
    auto host = detect();
    if (!host)
        return std::move(host).error().wrap(cat("list child cgroups of ", quoted(*normalized)));
    // Every hierarchy, not one: create() makes a cgroup in each in turn, and a crash between
    // two leaves it in some only.
    const auto layout = internal::layout_for(*host, *normalized);
    auto dirs = layout.unique_v1_dirs();
    if (!layout.v2_dir.empty())
        dirs.push_back(layout.v2_dir);
    std::set<std::string> names;
    for (const auto& dir : dirs)
        if (auto r = add_children(dir, names); !r)
            return std::move(r).error().wrap(cat("list child cgroups of ", quoted(*normalized)));
    return std::vector<std::string>(names.begin(), names.end());
}

} // namespace berth::cgroups
