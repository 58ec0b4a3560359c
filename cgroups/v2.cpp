// cgroups/v2.cpp — the resource model in cgroup v2 files, with runc's conversions from the v1
// vocabulary of the OCI spec (shares -> weight, memory+swap -> swap, blkio weight -> io.weight).
// Settings v2 has no file for are refused, never dropped.
#include "cgroups/internal.hpp"

namespace berth::cgroups::internal {

namespace {

std::string max_or(std::int64_t value)
{
    return value < 0 ? std::string("max") : std::to_string(value);
}

} // namespace

Result<void> plan_v2_memory(const Memory& memory, std::vector<Write>& out)
{
    if (memory.kernel)
        return Error::invalid("linux.resources.memory.kernel: kernel memory limits do not exist on",
                              " cgroup v2");
    if (memory.kernel_tcp)
        return Error::invalid("linux.resources.memory.kernelTCP: not supported on cgroup v2");
    if (memory.swappiness)
        return Error::invalid("linux.resources.memory.swappiness: not supported on cgroup v2");
    if (memory.disable_oom_killer && *memory.disable_oom_killer)
        return Error::invalid("linux.resources.memory.disableOOMKiller: not supported on",
                              " cgroup v2");
    auto swap = swap_to_v2(memory.swap, memory.limit);
    if (!swap)
        return std::move(swap).error().wrap("linux.resources.memory");
    // Swap first: lowering memory.max below current usage reclaims into swap if allowed.
    if (*swap)
        out.push_back({"memory", true, "memory.swap.max", max_or(**swap), "", ""});
    if (memory.limit)
        out.push_back({"memory", true, "memory.max", max_or(*memory.limit), "", ""});
    if (memory.reservation)
        out.push_back({"memory", true, "memory.low", max_or(*memory.reservation), "", ""});
    return {};
}

Result<void> plan_v2_cpu(const Cpu& cpu, std::vector<Write>& out)
{
    if (cpu.realtime_runtime || cpu.realtime_period)
        return Error::invalid("linux.resources.cpu.realtimeRuntime/realtimePeriod: not supported",
                              " on cgroup v2");
    if (cpu.shares) {
        if (*cpu.shares < 2 || *cpu.shares > 262144)
            return Error::invalid("linux.resources.cpu.shares: ", *cpu.shares,
                                  " is outside 2..262144");
        out.push_back(
            {"cpu", true, "cpu.weight", std::to_string(shares_to_weight(*cpu.shares)), "", ""});
    }
    if (cpu.quota || cpu.period) {
        // "max 100000" keeps the kernel's default period when only the quota is given.
        std::string value = cpu.quota && *cpu.quota > 0 ? std::to_string(*cpu.quota) : "max";
        value += ' ';
        value += std::to_string(cpu.period && *cpu.period ? *cpu.period : 100000);
        out.push_back({"cpu", true, "cpu.max", value, "", ""});
    }
    if (cpu.burst)
        out.push_back({"cpu", true, "cpu.max.burst", std::to_string(*cpu.burst), "", ""});
    if (cpu.idle)
        out.push_back({"cpu", true, "cpu.idle", std::to_string(*cpu.idle), "", ""});
    return {};
}

Result<void> plan_v2_block_io(const BlockIo& io, std::vector<Write>& out)
{
    if (io.leaf_weight)
        return Error::invalid("linux.resources.blockIO.leafWeight: not supported on cgroup v2");
    // io.weight takes 1..10000; BFQ's io.bfq.weight takes the blkio value (1..1000) unchanged.
    const auto weight = [&](const std::string& key, std::uint16_t w) {
        out.push_back({"io", true, "io.weight", cat(key, ' ', blkio_weight_to_io_weight(w)),
                       "io.bfq.weight", cat(key, ' ', w)});
    };
    if (io.weight)
        weight("default", *io.weight);
    for (const auto& d : io.weight_device) {
        if (d.leaf_weight)
            return Error::invalid("linux.resources.blockIO.weightDevice.leafWeight: not",
                                  " supported on cgroup v2");
        if (d.weight)
            weight(cat(d.major, ':', d.minor), *d.weight);
    }
    const auto throttle = [&](const std::vector<ThrottleDevice>& list, const char* key) {
        for (const auto& d : list)
            out.push_back(
                {"io", true, "io.max", cat(d.major, ':', d.minor, ' ', key, '=', d.rate), "", ""});
    };
    throttle(io.throttle_read_bps, "rbps");
    throttle(io.throttle_write_bps, "wbps");
    throttle(io.throttle_read_iops, "riops");
    throttle(io.throttle_write_iops, "wiops");
    return {};
}

} // namespace berth::cgroups::internal
