// agent/taskdef/build_linux.cpp — the kernel-facing part of a container's spec, as Docker sets
// it: its default capability set with ECS's add/drop, ulimits, devices and the device cgroup,
// cpu shares and memory limits, masked and read-only /proc paths.
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <algorithm>
#include <array>
#include <set>
#include "agent/taskdef/build_internal.hpp"

namespace berth::taskdef::build {

namespace {

// moby's defaultCapabilities (oci/caps/defaults.go).
constexpr auto docker_default_caps = std::to_array<std::string_view>(
    {"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP",
     "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"});

constexpr auto docker_masked_paths = std::to_array<std::string_view>(
    {"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
     "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
     "/sys/devices/virtual/powercap"});
constexpr auto docker_readonly_paths = std::to_array<std::string_view>(
    {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});

std::set<int> all_capabilities()
{
    std::set<int> all;
    const int last = static_cast<int>(cap_max_bits()); // what the running kernel knows
    for (int cap = 0; cap < last; ++cap)
        all.insert(cap);
    return all;
}

Result<int> capability(std::string_view ecs_name)
{
    return runtime::capability_from_name(cat("CAP_", ecs_name));
}

bool has_all(const std::vector<std::string>& names)
{
    return std::find(names.begin(), names.end(), "ALL") != names.end();
}

cgroups::DeviceRule allow(char type, std::optional<std::int64_t> major,
                          std::optional<std::int64_t> minor, std::string access = "rwm")
{
    return cgroups::DeviceRule{true, type, major, minor, std::move(access)};
}

// Docker's default device cgroup: mknod anything, use only the standard nodes, ptys and tun.
std::vector<cgroups::DeviceRule> default_device_rules()
{
    std::vector<cgroups::DeviceRule> rules = {cgroups::DeviceRule{false, 'a', {}, {}, "rwm"},
                                              allow('c', {}, {}, "m"), allow('b', {}, {}, "m")};
    for (auto [major, minor] : std::to_array<std::pair<int, int>>(
             {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}, {10, 200}}))
        rules.push_back(allow('c', major, minor));
    rules.push_back(allow('c', 136, {})); // /dev/pts/*
    return rules;
}

Result<void> add_devices(const Build& b, runtime::Linux& linux,
                         std::vector<cgroups::DeviceRule>& rules)
{
    if (!b.container.linux_parameters)
        return {};
    const auto& devices = b.container.linux_parameters->devices;
    for (std::size_t i = 0; i < devices.size(); ++i) {
        const auto& d = devices[i];
        const std::string field = cat("linuxParameters.devices[", i, "].hostPath");
        struct stat st {};
        if (::stat(d.host_path.c_str(), &st) < 0)
            return Error::from_errno(field, ": stat ", berth::quoted(d.host_path));
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
            return Error::invalid(field, ": ", berth::quoted(d.host_path), " is not a device");
        runtime::Device dev;
        dev.path = d.container_path;
        dev.type = S_ISBLK(st.st_mode) ? 'b' : 'c';
        dev.major = major(st.st_rdev);
        dev.minor = minor(st.st_rdev);
        dev.file_mode = st.st_mode & 07777;
        dev.uid = 0;
        dev.gid = 0;
        linux.devices.push_back(dev);
        std::string access;
        for (const auto& p : d.permissions)
            access += p == "read" ? 'r' : p == "write" ? 'w' : 'm';
        rules.push_back(allow(dev.type, dev.major, dev.minor, access.empty() ? "rwm" : access));
    }
    return {};
}

cgroups::Resources resources(const Build& b)
{
    cgroups::Resources r;
    const auto& c = b.container;
    // ECS agent: CPU units are cpu.shares, with the kernel's minimum of 2 for 0 or unset.
    cgroups::Cpu cpu;
    cpu.shares = static_cast<std::uint64_t>(std::max(2, c.cpu.value_or(0)));
    r.cpu = cpu;
    if (c.memory || c.memory_reservation) {
        cgroups::Memory memory;
        constexpr std::int64_t mib = std::int64_t{1} << 20;
        if (c.memory)
            memory.limit = *c.memory * mib;
        if (c.memory_reservation)
            memory.reservation = *c.memory_reservation * mib;
        r.memory = memory;
    }
    return r;
}

} // namespace

Result<runtime::Capabilities> capabilities(const Build& b)
{
    std::set<int> set;
    if (b.privileged()) {
        set = all_capabilities();
    } else {
        const LinuxParameters none;
        const auto& l = b.container.linux_parameters ? *b.container.linux_parameters : none;
        // moby's TweakCapabilities: ALL in add means every capability but those dropped;
        // ALL in drop means only those added; otherwise the default set, plus adds, minus drops.
        if (has_all(l.cap_add)) {
            set = all_capabilities();
        } else if (!has_all(l.cap_drop)) {
            for (auto name : docker_default_caps)
                if (auto cap = capability(name); cap)
                    set.insert(*cap);
        }
        for (const auto& name : l.cap_add)
            if (name != "ALL") {
                auto cap = capability(name);
                if (!cap)
                    return std::move(cap).error().wrap("linuxParameters.capabilities.add");
                set.insert(*cap);
            }
        if (!has_all(l.cap_drop))
            for (const auto& name : l.cap_drop) {
                auto cap = capability(name);
                if (!cap)
                    return std::move(cap).error().wrap("linuxParameters.capabilities.drop");
                if (std::find(l.cap_add.begin(), l.cap_add.end(), name) == l.cap_add.end())
                    set.erase(*cap);
            }
    }
    runtime::Capabilities caps;
    caps.bounding.assign(set.begin(), set.end());
    caps.effective = caps.bounding;
    caps.permitted = caps.bounding;
    return caps;
}

Result<std::vector<runtime::Rlimit>> rlimits(const Build& b)
{
    std::vector<runtime::Rlimit> out;
    for (std::size_t i = 0; i < b.container.ulimits.size(); ++i) {
        const auto& u = b.container.ulimits[i];
        std::string upper = "RLIMIT_";
        for (char c : u.name)
            upper.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c));
        auto resource = runtime::rlimit_from_name(upper);
        if (!resource)
            return std::move(resource).error().wrap(cat("ulimits[", i, "].name"));
        const auto value = [](std::int64_t v) {
            return v < 0 ? ~std::uint64_t{0} : static_cast<std::uint64_t>(v); // -1: unlimited
        };
        out.push_back({*resource, upper, value(u.soft), value(u.hard)});
    }
    return out;
}

Result<void> linux_part(const Build& b, runtime::Linux& linux)
{
    auto r = resources(b);
    if (b.privileged()) {
        r.devices = {allow('a', {}, {})};
    } else {
        r.devices = default_device_rules();
        for (auto path : docker_masked_paths)
            linux.masked_paths.emplace_back(path);
        for (auto path : docker_readonly_paths)
            linux.readonly_paths.emplace_back(path);
    }
    if (auto ok = add_devices(b, linux, r.devices); !ok)
        return ok;
    linux.resources = std::move(r);
    linux.cgroups_path = b.inputs.cgroups_path;
    return {};
}

} // namespace berth::taskdef::build
