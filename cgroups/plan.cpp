// cgroups/plan.cpp — Resources to an ordered list of file writes, choosing per controller the
// hierarchy that holds it on this host (v1 or v2; on hybrid hosts a mix). Pure.
#include "cgroups/internal.hpp"

namespace berth::cgroups::internal {

namespace {

// True for v2, false for v1; an error when neither hierarchy has the controller.
Result<bool> locate(const Host& host, const std::string& v1_name, const std::string& v2_name,
                    std::string_view resource)
{
    if (host.mode != Mode::Unified && host.v1_mounts.count(v1_name) != 0)
        return false;
    auto v2 = controller_is_v2(host, v2_name);
    if (!v2)
        return std::move(v2).error().wrap(resource);
    return true;
}

bool has_cpu_controller_fields(const Cpu& cpu)
{
    return cpu.shares || cpu.quota || cpu.burst || cpu.period || cpu.realtime_runtime ||
           cpu.realtime_period || cpu.idle;
}

Result<void> plan_cpu(const Cpu& cpu, const Host& host, std::vector<Write>& out)
{
    if (has_cpu_controller_fields(cpu)) {
        auto v2 = locate(host, "cpu", "cpu", "linux.resources.cpu");
        if (!v2)
            return std::move(v2).error();
        auto r = *v2 ? plan_v2_cpu(cpu, out) : plan_v1_cpu(cpu, out);
        if (!r)
            return r;
    }
    if (cpu.cpus.empty() && cpu.mems.empty())
        return {};
    auto v2 = locate(host, "cpuset", "cpuset", "linux.resources.cpu.cpus/mems");
    if (!v2)
        return std::move(v2).error();
    if (!cpu.cpus.empty())
        out.push_back({"cpuset", *v2, "cpuset.cpus", cpu.cpus, "", ""});
    if (!cpu.mems.empty())
        out.push_back({"cpuset", *v2, "cpuset.mems", cpu.mems, "", ""});
    return {};
}

} // namespace

void plan_pids(const Pids& pids, bool v2, std::vector<Write>& out)
{
    out.push_back(
        {"pids", v2, "pids.max", pids.limit > 0 ? std::to_string(pids.limit) : "max", "", ""});
}

Result<void> plan_hugetlb(const HugepageLimit& limit, bool v2, std::vector<Write>& out)
{
    // The size becomes part of a file name: only "2MB", "1GB" and the like.
    const auto& size = limit.page_size;
    bool sane = !size.empty() && size.size() <= 8;
    for (char c : size)
        sane = sane && ((c >= '0' && c <= '9') || c == 'K' || c == 'M' || c == 'G' || c == 'B');
    if (!sane)
        return Error::invalid("linux.resources.hugepageLimits: page size ", quoted(size),
                              " is not like '2MB'");
    const std::string file = cat("hugetlb.", size, v2 ? ".max" : ".limit_in_bytes");
    out.push_back({"hugetlb", v2, file, std::to_string(limit.limit), "", ""});
    return {};
}

Result<std::vector<Write>> plan(const Resources& resources, const Host& host)
{
    std::vector<Write> out;
    Result<void> r;
    if (resources.cpu && !(r = plan_cpu(*resources.cpu, host, out)))
        return std::move(r).error();
    if (!resources.devices.empty() && host.mode != Mode::Unified &&
        host.v1_mounts.count("devices") != 0 && !(r = plan_v1_devices(resources.devices, out)))
        return std::move(r).error();
    if (resources.memory) {
        auto v2 = locate(host, "memory", "memory", "linux.resources.memory");
        if (!v2)
            return std::move(v2).error();
        r = *v2 ? plan_v2_memory(*resources.memory, out) : plan_v1_memory(*resources.memory, out);
        if (!r)
            return std::move(r).error();
    }
    if (resources.pids) {
        auto v2 = locate(host, "pids", "pids", "linux.resources.pids");
        if (!v2)
            return std::move(v2).error();
        plan_pids(*resources.pids, *v2, out);
    }
    if (resources.block_io) {
        auto v2 = locate(host, "blkio", "io", "linux.resources.blockIO");
        if (!v2)
            return std::move(v2).error();
        r = *v2 ? plan_v2_block_io(*resources.block_io, out)
                : plan_v1_block_io(*resources.block_io, out);
        if (!r)
            return std::move(r).error();
    }
    for (const auto& limit : resources.hugepage_limits) {
        auto v2 = locate(host, "hugetlb", "hugetlb", "linux.resources.hugepageLimits");
        if (!v2)
            return std::move(v2).error();
        if (!(r = plan_hugetlb(limit, *v2, out)))
            return std::move(r).error();
    }
    // Last, so a unified value overrides the same setting made from the structured fields.
    if (!resources.unified.empty() && !(r = plan_unified(resources.unified, host, out)))
        return std::move(r).error();
    return out;
}

Result<void> validate_unified_key(std::string_view key)
{
    if (key.empty() || key.find('/') != std::string_view::npos || key == "." || key == ".." ||
        key.find('.') == std::string_view::npos || key.find('\0') != std::string_view::npos)
        return Error::invalid("linux.resources.unified: key ", quoted(key),
                              " is not a cgroup file name like 'memory.high'");
    // The runtime owns membership, freezing and killing; the spec may not write them.
    for (std::string_view reserved : {"cgroup.procs", "cgroup.threads", "cgroup.subtree_control",
                                      "cgroup.kill", "cgroup.freeze", "cgroup.type"})
        if (key == reserved)
            return Error::invalid("linux.resources.unified: key ", quoted(key),
                                  " is managed by the runtime");
    return {};
}

Result<void> plan_unified(const std::map<std::string, std::string>& unified, const Host& host,
                          std::vector<Write>& out)
{
    for (const auto& [key, value] : unified) {
        if (auto r = validate_unified_key(key); !r)
            return r;
        if (host.unified_mount.empty())
            return Error::with_code(ENOTSUP, "linux.resources.unified: key ", quoted(key),
                                    ": this host has no cgroup v2 hierarchy");
        const std::string controller = key.substr(0, key.find('.'));
        if (controller != "cgroup") {
            auto v2 = controller_is_v2(host, controller);
            if (!v2)
                return std::move(v2).error().wrap(
                    cat("linux.resources.unified: key ", quoted(key)));
            if (!*v2)
                return Error::with_code(ENOTSUP, "linux.resources.unified: key ", quoted(key),
                                        ": controller ", controller,
                                        " is on a cgroup v1 hierarchy on this host");
        }
        out.push_back({controller, true, key, value, "", ""});
    }
    return {};
}

} // namespace berth::cgroups::internal
