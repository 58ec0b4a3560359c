// cgroups/paths.cpp — the rules for cgroup paths, in one place: normalization, "is it inside
// berth's root", runc's systemd "slice:prefix:name" form, and the systemd-delegated subtree.
// Pure string logic except own_delegated_root(), which reads /proc/self/cgroup and one xattr.
#include <sys/xattr.h>
#include "base/files.hpp"
#include "cgroups/internal.hpp"

namespace berth::cgroups {

Result<std::string> normalize_path(std::string_view path, bool allow_root)
{
    if (path.empty() || path.front() != '/')
        return Error::invalid("cgroup path ", quoted(path), " is not absolute");
    if (path.find('\0') != std::string_view::npos)
        return Error::invalid("cgroup path ", quoted(path), " contains a NUL byte");
    std::string out;
    for (auto part : split(path, '/')) {
        if (part.empty())
            continue;
        if (part == "." || part == "..")
            return Error::invalid("cgroup path ", quoted(path), " has a '.' or '..' component");
        out += '/';
        out += part;
    }
    if (out.empty()) {
        if (allow_root)
            return std::string("/");
        return Error::invalid("cgroup path ", quoted(path), " is the hierarchy root");
    }
    return out;
}

bool path_within(std::string_view path, std::string_view root)
{
    if (root == "/")
        return !path.empty() && path.front() == '/';
    return path == root || (path.size() > root.size() && path.substr(0, root.size()) == root &&
                            path[root.size()] == '/');
}

namespace {

constexpr std::string_view slice_suffix = ".slice";

bool ends_with_slice(std::string_view name)
{
    return name.size() > slice_suffix.size() &&
           name.substr(name.size() - slice_suffix.size()) == slice_suffix;
}

// systemd's slice naming: "a-b-c.slice" lives in "/a.slice/a-b.slice/a-b-c.slice".
Result<std::string> expand_slice(std::string_view slice)
{
    if (slice == "-" || slice == "-.slice")
        return std::string("/");
    if (!ends_with_slice(slice) || slice.find('/') != std::string_view::npos)
        return Error::invalid("slice ", quoted(slice), " is not a systemd slice name (want",
                              " \"name.slice\", no '/')");
    const auto name = slice.substr(0, slice.size() - slice_suffix.size());
    std::string path, prefix;
    for (auto component : split(name, '-')) {
        if (component.empty())
            return Error::invalid("slice ", quoted(slice), " has an empty '-' component");
        path += cat('/', prefix, component, slice_suffix);
        prefix += cat(component, '-');
    }
    return path;
}

} // namespace

Result<std::string> systemd_cgroup_path(std::string_view slice_prefix_name)
{
    const auto parts = split(slice_prefix_name, ':');
    if (parts.size() != 3)
        return Error::invalid("cgroupsPath ", quoted(slice_prefix_name),
                              ": expected \"slice:prefix:name\" for systemd cgroups");
    const auto slice = parts[0].empty() ? std::string_view("system.slice") : parts[0];
    const auto prefix = parts[1];
    const auto name = parts[2];
    if (name.empty() || name.find('/') != std::string_view::npos || name == "." || name == ".." ||
        prefix.find('/') != std::string_view::npos)
        return Error::invalid("cgroupsPath ", quoted(slice_prefix_name),
                              ": the unit name must be non-empty, without '/'");
    auto parent = expand_slice(slice);
    if (!parent)
        return std::move(parent).error().wrap(cat("cgroupsPath ", quoted(slice_prefix_name)));
    // A name ending in ".slice" is a slice of its own (runc's rule); anything else a scope.
    std::string unit;
    if (ends_with_slice(name)) {
        auto expanded = expand_slice(name);
        if (!expanded)
            return std::move(expanded).error().wrap(cat("cgroupsPath ", quoted(slice_prefix_name)));
        unit = expanded->substr(expanded->rfind('/') + 1);
    } else {
        unit = prefix.empty() ? cat(name, ".scope") : cat(prefix, '-', name, ".scope");
    }
    return normalize_path(cat(*parent == "/" ? "" : *parent, '/', unit));
}

Result<std::optional<std::string>> own_delegated_root()
{
    auto text = read_file("/proc/self/cgroup", std::size_t{64} * 1024);
    if (!text)
        return std::move(text).error().wrap("read own cgroup");
    auto root = delegated_root(*text);
    if (!root)
        return std::move(root).error();
    auto host = detect();
    if (!host)
        return std::move(host).error();
    // systemd marks the delegated cgroup in the hierarchy it tracks services in.
    std::string dir;
    if (host->mode == Mode::Unified)
        dir = host->unified_mount;
    else if (auto it = host->v1_mounts.find(std::string(internal::systemd_hierarchy));
             it != host->v1_mounts.end())
        dir = it->second;
    if (dir.empty())
        return std::optional<std::string>();
    dir += *root == "/" ? "" : *root;
    char value[16];
    for (const char* name : {"trusted.delegate", "user.delegate"}) {
        const auto n = ::getxattr(dir.c_str(), name, value, sizeof value);
        if (n > 0 && value[0] == '1')
            return std::optional<std::string>(*root);
    }
    return std::optional<std::string>();
}

} // namespace berth::cgroups
