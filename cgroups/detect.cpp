// cgroups/detect.cpp — what the host offers: pure v2, hybrid (v1 hierarchies plus a v2 mount) or
// pure v1, and where each controller lives. Read once per process from /proc/self/mountinfo.
#include <algorithm>
#include <mutex>
#include "base/files.hpp"
#include "cgroups/internal.hpp"

namespace berth::cgroups {

namespace {

bool known_v1_controller(std::string_view option)
{
    const auto& known = internal::v1_controllers();
    return std::find(known.begin(), known.end(), option) != known.end();
}

// Of several cgroup2 mounts, prefer the canonical places over bind mounts elsewhere.
int unified_preference(const std::string& mount_point)
{
    if (mount_point == "/sys/fs/cgroup")
        return 2;
    if (mount_point == "/sys/fs/cgroup/unified")
        return 1;
    return 0;
}

} // namespace

Result<Host> detect_from(std::string_view mountinfo, std::string_view v2_root_controllers)
{
    auto entries = internal::parse_mountinfo(mountinfo);
    if (!entries)
        return std::move(entries).error().wrap("detect cgroups");
    Host host;
    int best = -1;
    for (const auto& entry : *entries) {
        if (entry.fs_type == "cgroup2") {
            if (unified_preference(entry.mount_point) > best) {
                best = unified_preference(entry.mount_point);
                host.unified_mount = entry.mount_point;
            }
        } else if (entry.fs_type == "cgroup") {
            for (auto option : split(entry.super_options, ','))
                if (known_v1_controller(option))
                    host.v1_mounts.emplace(std::string(option), entry.mount_point); // first wins
        }
    }
    if (host.unified_mount.empty() && host.v1_mounts.empty())
        return Error::with_code(ENOENT,
                                "detect cgroups: no cgroup or cgroup2 filesystem is mounted");
    if (!host.unified_mount.empty())
        for (auto c : split(trim(v2_root_controllers), ' '))
            if (!c.empty())
                host.v2_controllers.emplace_back(c);
    // name=systemd alone (a pure v2 host that also mounts it for old containers) does not make a
    // hybrid host: drop it there, v2 then holds every process.
    if (host.v1_mounts.size() == 1 &&
        host.v1_mounts.count(std::string(internal::systemd_hierarchy)) != 0 &&
        !host.unified_mount.empty())
        host.v1_mounts.clear();
    if (host.v1_mounts.empty())
        host.mode = Mode::Unified;
    else
        host.mode = host.unified_mount.empty() ? Mode::Legacy : Mode::Hybrid;
    return host;
}

Result<Host> detect()
{
    static std::mutex mutex;
    static std::optional<Host> cached;
    std::lock_guard lock(mutex);
    if (cached)
        return *cached;
    auto mountinfo = read_file("/proc/self/mountinfo");
    if (!mountinfo)
        return std::move(mountinfo).error().wrap("detect cgroups");
    // Find the v2 mount first, then read its root's controllers.
    auto bare = detect_from(*mountinfo, "");
    if (!bare)
        return bare;
    std::string controllers;
    if (!bare->unified_mount.empty()) {
        auto text = read_file(bare->unified_mount + "/cgroup.controllers", 4096);
        if (!text)
            return std::move(text).error().wrap("detect cgroups");
        controllers = std::move(*text);
    }
    auto host = detect_from(*mountinfo, controllers);
    if (host)
        cached = *host;
    return host;
}

} // namespace berth::cgroups

namespace berth::cgroups::internal {

const std::vector<std::string>& v1_controllers()
{
    static const std::vector<std::string> names = {
        "cpu",     "cpuacct", "cpuset", "memory",  "devices",
        "freezer", "blkio",   "pids",   "hugetlb", std::string(systemd_hierarchy),
    };
    return names;
}

Result<bool> controller_is_v2(const Host& host, const std::string& controller)
{
    // On a hybrid host a controller bound to a v1 hierarchy is absent from v2, and vice versa.
    if (host.mode != Mode::Unified && host.v1_mounts.count(controller) != 0)
        return false;
    const auto& v2 = host.v2_controllers;
    if (!host.unified_mount.empty() && std::find(v2.begin(), v2.end(), controller) != v2.end())
        return true;
    std::string v1_list, v2_list;
    for (const auto& [name, mount] : host.v1_mounts)
        v1_list += (v1_list.empty() ? "" : " ") + name;
    for (const auto& name : v2)
        v2_list += (v2_list.empty() ? "" : " ") + name;
    return Error::with_code(ENOTSUP, "controller ", controller, " is not available on this ",
                            mode_name(host.mode), " host (v1: ", v1_list.empty() ? "none" : v1_list,
                            "; v2: ", v2_list.empty() ? "none" : v2_list, ")");
}

} // namespace berth::cgroups::internal
