// runtime/spec/spec_write_linux.cpp — the "linux" object of a Spec back to JSON: namespaces,
// id mappings, devices, resources, seccomp and paths, in the runtime-spec's key order.
#include "runtime/spec/spec_parts.hpp"

namespace berth::runtime::spec_parts {

namespace {

template <class T>
void put(Ordered& out, const char* key, const std::optional<T>& value)
{
    if (value)
        out[key] = *value;
}

void put(Ordered& out, const char* key, const std::string& value)
{
    if (!value.empty())
        out[key] = value;
}

Ordered write_id_mappings(const std::vector<IdMapping>& mappings)
{
    Ordered out = Ordered::array();
    for (const auto& m : mappings)
        out.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}});
    return out;
}

Ordered write_device_rule(const cgroups::DeviceRule& rule)
{
    Ordered out = {{"allow", rule.allow}};
    if (rule.type != 'a')
        out["type"] = std::string(1, rule.type);
    put(out, "major", rule.major);
    put(out, "minor", rule.minor);
    out["access"] = rule.access;
    return out;
}

Ordered write_memory(const cgroups::Memory& memory)
{
    Ordered out = Ordered::object();
    memory_fields(memory, [&](const char* key, const auto& value) { put(out, key, value); });
    return out;
}

Ordered write_cpu(const cgroups::Cpu& cpu)
{
    Ordered out = Ordered::object();
    cpu_fields(cpu, [&](const char* key, const auto& value) { put(out, key, value); });
    return out;
}

Ordered write_throttle_list(const std::vector<cgroups::ThrottleDevice>& devices)
{
    Ordered out = Ordered::array();
    for (const auto& d : devices)
        out.push_back({{"major", d.major}, {"minor", d.minor}, {"rate", d.rate}});
    return out;
}

Ordered write_block_io(const cgroups::BlockIo& io)
{
    Ordered out = Ordered::object();
    put(out, "weight", io.weight);
    put(out, "leafWeight", io.leaf_weight);
    if (!io.weight_device.empty()) {
        auto& devices = out["weightDevice"] = Ordered::array();
        for (const auto& d : io.weight_device) {
            Ordered device = {{"major", d.major}, {"minor", d.minor}};
            put(device, "weight", d.weight);
            put(device, "leafWeight", d.leaf_weight);
            devices.push_back(std::move(device));
        }
    }
    const std::pair<const char*, const std::vector<cgroups::ThrottleDevice>*> lists[] = {
        {"throttleReadBpsDevice", &io.throttle_read_bps},
        {"throttleWriteBpsDevice", &io.throttle_write_bps},
        {"throttleReadIOPSDevice", &io.throttle_read_iops},
        {"throttleWriteIOPSDevice", &io.throttle_write_iops},
    };
    for (const auto& [key, list] : lists)
        if (!list->empty())
            out[key] = write_throttle_list(*list);
    return out;
}

Ordered write_device(const Device& device)
{
    Ordered out = {{"path", device.path},
                   {"type", std::string(1, device.type)},
                   {"major", device.major},
                   {"minor", device.minor}};
    put(out, "fileMode", device.file_mode);
    put(out, "uid", device.uid);
    put(out, "gid", device.gid);
    return out;
}

Ordered write_seccomp_rule(const SeccompRule& rule)
{
    Ordered out = {{"names", rule.names}, {"action", action_name(rule.action)}};
    put(out, "errnoRet", rule.errno_ret);
    if (!rule.args.empty()) {
        auto& args = out["args"] = Ordered::array();
        for (const auto& arg : rule.args) {
            Ordered a = {{"index", arg.index}, {"value", arg.value}};
            if (arg.value_two != 0)
                a["valueTwo"] = arg.value_two;
            a["op"] = op_name(arg.op);
            args.push_back(std::move(a));
        }
    }
    return out;
}

Result<Ordered> write_seccomp(const Seccomp& seccomp)
{
    Ordered out = {{"defaultAction", action_name(seccomp.default_action)}};
    put(out, "defaultErrnoRet", seccomp.default_errno_ret);
    if (!seccomp.architectures.empty()) {
        auto& architectures = out["architectures"] = Ordered::array();
        for (std::size_t i = 0; i < seccomp.architectures.size(); ++i) {
            auto name = architecture_name(seccomp.architectures[i]);
            if (!name)
                return std::move(name).error().wrap(cat("linux.seccomp.architectures[", i, ']'));
            architectures.push_back(std::move(*name));
        }
    }
    if (!seccomp.flags.empty())
        out["flags"] = seccomp.flags;
    if (!seccomp.listener_path.empty())
        out["listenerPath"] = seccomp.listener_path;
    if (!seccomp.listener_metadata.empty())
        out["listenerMetadata"] = seccomp.listener_metadata;
    if (!seccomp.syscalls.empty()) {
        auto& syscalls = out["syscalls"] = Ordered::array();
        for (const auto& rule : seccomp.syscalls)
            syscalls.push_back(write_seccomp_rule(rule));
    }
    return out;
}

} // namespace

Ordered write_resources(const cgroups::Resources& resources)
{
    Ordered out = Ordered::object();
    if (!resources.devices.empty()) {
        auto& devices = out["devices"] = Ordered::array();
        for (const auto& rule : resources.devices)
            devices.push_back(write_device_rule(rule));
    }
    if (resources.memory)
        out["memory"] = write_memory(*resources.memory);
    if (resources.cpu)
        out["cpu"] = write_cpu(*resources.cpu);
    if (resources.block_io)
        out["blockIO"] = write_block_io(*resources.block_io);
    if (!resources.hugepage_limits.empty()) {
        auto& limits = out["hugepageLimits"] = Ordered::array();
        for (const auto& limit : resources.hugepage_limits)
            limits.push_back({{"pageSize", limit.page_size}, {"limit", limit.limit}});
    }
    if (resources.pids)
        out["pids"] = {{"limit", resources.pids->limit}};
    if (!resources.unified.empty())
        out["unified"] = resources.unified;
    return out;
}

Result<Ordered> write_linux(const Linux& linux)
{
    Ordered out = Ordered::object();
    if (!linux.uid_mappings.empty())
        out["uidMappings"] = write_id_mappings(linux.uid_mappings);
    if (!linux.gid_mappings.empty())
        out["gidMappings"] = write_id_mappings(linux.gid_mappings);
    if (!linux.sysctl.empty())
        out["sysctl"] = linux.sysctl;
    if (linux.resources)
        out["resources"] = write_resources(*linux.resources);
    if (!linux.cgroups_path.empty())
        out["cgroupsPath"] = linux.cgroups_path;
    if (!linux.namespaces.empty()) {
        auto& namespaces = out["namespaces"] = Ordered::array();
        for (const auto& ns : linux.namespaces) {
            Ordered n = {{"type", spec_name(ns.type)}};
            if (!ns.path.empty())
                n["path"] = ns.path;
            namespaces.push_back(std::move(n));
        }
    }
    if (!linux.devices.empty()) {
        auto& devices = out["devices"] = Ordered::array();
        for (const auto& device : linux.devices)
            devices.push_back(write_device(device));
    }
    if (linux.seccomp) {
        auto seccomp = write_seccomp(*linux.seccomp);
        if (!seccomp)
            return seccomp;
        out["seccomp"] = std::move(*seccomp);
    }
    if (linux.rootfs_propagation != 0) {
        const auto name = propagation_name(linux.rootfs_propagation);
        if (name.empty())
            return Error::invalid("linux.rootfsPropagation: no name for mount flags ",
                                  linux.rootfs_propagation);
        out["rootfsPropagation"] = name;
    }
    if (!linux.masked_paths.empty())
        out["maskedPaths"] = linux.masked_paths;
    if (!linux.readonly_paths.empty())
        out["readonlyPaths"] = linux.readonly_paths;
    if (!linux.mount_label.empty())
        out["mountLabel"] = linux.mount_label;
    return out;
}

} // namespace berth::runtime::spec_parts
