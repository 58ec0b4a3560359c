// cgroups/v1.cpp — the resource model in cgroup v1 files, one controller hierarchy each.
// Values follow runc's fs driver; -1 means unlimited, which v1 files accept as written.
#include "cgroups/internal.hpp"

namespace berth::cgroups::internal {

Result<void> plan_v1_memory(const Memory& memory, std::vector<Write>& out)
{
    const auto add = [&](const char* file, auto value) {
        out.push_back({"memory", false, file, std::to_string(value), "", ""});
    };
    // Limit before memsw; cgroup.cpp swaps the two when the kernel refuses the limit because the
    // old memsw is lower (raising both).
    if (memory.limit)
        add("memory.limit_in_bytes", *memory.limit);
    if (memory.swap) {
        if (memory.limit && *memory.swap != -1 && *memory.limit != -1 &&
            *memory.swap < *memory.limit)
            return Error::invalid("linux.resources.memory.swap: ", *memory.swap,
                                  " (memory+swap) is below the memory limit ", *memory.limit);
        add("memory.memsw.limit_in_bytes", *memory.swap);
    }
    if (memory.reservation)
        add("memory.soft_limit_in_bytes", *memory.reservation);
    if (memory.kernel)
        add("memory.kmem.limit_in_bytes", *memory.kernel);
    if (memory.kernel_tcp)
        add("memory.kmem.tcp.limit_in_bytes", *memory.kernel_tcp);
    if (memory.swappiness) {
        if (*memory.swappiness > 100)
            return Error::invalid("linux.resources.memory.swappiness: ", *memory.swappiness,
                                  " is above 100");
        add("memory.swappiness", *memory.swappiness);
    }
    if (memory.disable_oom_killer && *memory.disable_oom_killer)
        add("memory.oom_control", 1);
    if (memory.use_hierarchy)
        add("memory.use_hierarchy", *memory.use_hierarchy ? 1 : 0);
    return {};
}

Result<void> plan_v1_cpu(const Cpu& cpu, std::vector<Write>& out)
{
    const auto add = [&](const char* file, auto value) {
        out.push_back({"cpu", false, file, std::to_string(value), "", ""});
    };
    if (cpu.shares)
        add("cpu.shares", *cpu.shares);
    // Period first: a quota is checked against the period in force.
    if (cpu.period)
        add("cpu.cfs_period_us", *cpu.period);
    if (cpu.quota)
        add("cpu.cfs_quota_us", *cpu.quota);
    if (cpu.burst)
        add("cpu.cfs_burst_us", *cpu.burst);
    if (cpu.realtime_period)
        add("cpu.rt_period_us", *cpu.realtime_period);
    if (cpu.realtime_runtime)
        add("cpu.rt_runtime_us", *cpu.realtime_runtime);
    if (cpu.idle)
        add("cpu.idle", *cpu.idle);
    return {};
}

Result<void> plan_v1_block_io(const BlockIo& io, std::vector<Write>& out)
{
    const auto add = [&](std::string file, const std::string& value, std::string fallback = "") {
        out.push_back({"blkio", false, std::move(file), value, std::move(fallback), value});
    };
    // Without CFQ (kernels >= 5.0) the weights live in blkio.bfq.* when BFQ is loaded.
    if (io.weight)
        add("blkio.weight", std::to_string(*io.weight), "blkio.bfq.weight");
    if (io.leaf_weight)
        add("blkio.leaf_weight", std::to_string(*io.leaf_weight));
    for (const auto& d : io.weight_device) {
        if (d.weight)
            add("blkio.weight_device", cat(d.major, ':', d.minor, ' ', *d.weight),
                "blkio.bfq.weight_device");
        if (d.leaf_weight)
            add("blkio.leaf_weight_device", cat(d.major, ':', d.minor, ' ', *d.leaf_weight));
    }
    const auto throttle = [&](const std::vector<ThrottleDevice>& list, const char* file) {
        for (const auto& d : list)
            add(file, cat(d.major, ':', d.minor, ' ', d.rate));
    };
    throttle(io.throttle_read_bps, "blkio.throttle.read_bps_device");
    throttle(io.throttle_write_bps, "blkio.throttle.write_bps_device");
    throttle(io.throttle_read_iops, "blkio.throttle.read_iops_device");
    throttle(io.throttle_write_iops, "blkio.throttle.write_iops_device");
    return {};
}

Result<void> validate_device_rule(const DeviceRule& rule)
{
    if (rule.type != 'a' && rule.type != 'b' && rule.type != 'c')
        return Error::invalid("linux.resources.devices: type ", quoted(std::string(1, rule.type)),
                              " is not a, b or c");
    if (rule.access.empty() || rule.access.find_first_not_of("rwm") != std::string::npos)
        return Error::invalid("linux.resources.devices: access ", quoted(rule.access),
                              " is not a non-empty subset of 'rwm'");
    if ((rule.major && *rule.major < 0) || (rule.minor && *rule.minor < 0) ||
        (rule.major && *rule.major > 0xfff) || (rule.minor && *rule.minor > 0xfffff))
        return Error::invalid("linux.resources.devices: device number out of range");
    return {};
}

Result<void> plan_v1_devices(const std::vector<DeviceRule>& rules, std::vector<Write>& out)
{
    // Deny everything first, then the rules in order: later rules override earlier ones, the
    // same semantics the v2 eBPF program implements.
    out.push_back({"devices", false, "devices.deny", "a", "", ""});
    for (const auto& rule : rules) {
        if (auto r = validate_device_rule(rule); !r)
            return r;
        const char* file = rule.allow ? "devices.allow" : "devices.deny";
        const bool full_access = rule.access.find('r') != std::string::npos &&
                                 rule.access.find('w') != std::string::npos &&
                                 rule.access.find('m') != std::string::npos;
        if (rule.type == 'a' && !rule.major && !rule.minor && full_access) {
            out.push_back({"devices", false, file, "a", "", ""});
            continue;
        }
        // The kernel reads "a ..." as "everything, rwm" whatever follows: spell a narrower
        // all-devices rule as one block and one char rule.
        const std::string numbers = cat(rule.major ? std::to_string(*rule.major) : "*", ':',
                                        rule.minor ? std::to_string(*rule.minor) : "*");
        for (char type : rule.type == 'a' ? std::string("bc") : std::string(1, rule.type))
            out.push_back(
                {"devices", false, file, cat(type, ' ', numbers, ' ', rule.access), "", ""});
    }
    return {};
}

} // namespace berth::cgroups::internal
