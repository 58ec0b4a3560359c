// runtime/spec/spec_resources.cpp — linux.resources to cgroups::Resources. Values are checked here
// against what the spec and the kernel allow, so the cgroup drivers only translate.
#include <cctype>
#include "runtime/spec/spec_parts.hpp"

namespace berth::runtime::spec_parts {

using spec_json::Decoder;
using spec_json::Object;

namespace {

// An int64 "limit"-style value: -1 means unlimited, anything below is nonsense.
void check_at_least_minus_one(Object& obj, std::string_view key,
                              const std::optional<std::int64_t>& value)
{
    if (obj.ok() && value && *value < -1)
        obj.fail(obj.at().member(key, obj.at().json).invalid("must be -1 or more, got ", *value));
}

Result<cgroups::DeviceRule> parse_device_rule(const At& at)
{
    cgroups::DeviceRule rule;
    std::string type = "a";
    Object obj(at);
    obj.require("allow", rule.allow);
    obj.read("type", type);
    obj.read("major", rule.major);
    obj.read("minor", rule.minor);
    obj.read("access", rule.access);
    if (!obj.ok())
        return std::move(obj).error();
    if (type.size() != 1 || std::string_view("abc").find(type[0]) == std::string_view::npos)
        return at.member("type", at.json).invalid("expected a, b or c, got ", berth::quoted(type));
    rule.type = type[0];
    // -1 is how some tools spell "any", as runc reads it.
    for (auto* number : {&rule.major, &rule.minor}) {
        if (*number && **number == -1)
            number->reset();
        else if (*number && **number < 0)
            return at.invalid("major and minor must be -1 (any) or more");
    }
    if (rule.access.empty())
        rule.access = "rwm";
    if (rule.access.size() > 3 || rule.access.find_first_not_of("rwm") != std::string::npos)
        return at.member("access", at.json)
            .invalid("expected letters of 'rwm', got ", berth::quoted(rule.access));
    return rule;
}

Result<cgroups::Memory> parse_memory(const At& at)
{
    cgroups::Memory memory;
    Object obj(at);
    memory_fields(memory, [&](std::string_view key, auto& value) { obj.read(key, value); });
    check_at_least_minus_one(obj, "limit", memory.limit);
    check_at_least_minus_one(obj, "reservation", memory.reservation);
    check_at_least_minus_one(obj, "swap", memory.swap);
    check_at_least_minus_one(obj, "kernel", memory.kernel);
    check_at_least_minus_one(obj, "kernelTCP", memory.kernel_tcp);
    if (!obj.ok())
        return std::move(obj).error();
    if (memory.swappiness && *memory.swappiness > 100)
        return at.member("swappiness", at.json)
            .invalid("must be within 0..100, got ", *memory.swappiness);
    // swap is memory+swap: it cannot be below the memory limit (runc refuses this too).
    if (memory.limit && memory.swap && *memory.limit > 0 && *memory.swap > 0 &&
        *memory.swap < *memory.limit)
        return at.member("swap", at.json)
            .invalid("memory+swap limit ", *memory.swap, " is below the memory limit ",
                     *memory.limit);
    return memory;
}

// A cpuset list as cpuset.cpus takes it: "0-3,5,7-8".
bool is_cpu_list(std::string_view text)
{
    if (text.empty())
        return true;
    for (const auto part : split(text, ',')) {
        const auto dash = part.find('-');
        const auto first = parse_int<unsigned>(part.substr(0, dash));
        if (!first)
            return false;
        if (dash == std::string_view::npos)
            continue;
        const auto last = parse_int<unsigned>(part.substr(dash + 1));
        if (!last || *last < *first)
            return false;
    }
    return true;
}

Result<cgroups::Cpu> parse_cpu(const At& at)
{
    cgroups::Cpu cpu;
    Object obj(at);
    cpu_fields(cpu, [&](std::string_view key, auto& value) { obj.read(key, value); });
    check_at_least_minus_one(obj, "quota", cpu.quota);
    check_at_least_minus_one(obj, "realtimeRuntime", cpu.realtime_runtime);
    if (!obj.ok())
        return std::move(obj).error();
    // The kernel takes periods from 1 ms to 1 s; 0 means "not set" in runc's reading.
    if (cpu.period && *cpu.period != 0 && (*cpu.period < 1000 || *cpu.period > 1000000))
        return at.member("period", at.json)
            .invalid("must be within 1000..1000000 microseconds, got ", *cpu.period);
    if (!is_cpu_list(cpu.cpus))
        return at.member("cpus", at.json).invalid("not a cpu list: ", berth::quoted(cpu.cpus));
    if (!is_cpu_list(cpu.mems))
        return at.member("mems", at.json).invalid("not a node list: ", berth::quoted(cpu.mems));
    if (cpu.idle && *cpu.idle != 0 && *cpu.idle != 1)
        return at.member("idle", at.json).invalid("must be 0 or 1, got ", *cpu.idle);
    return cpu;
}

Result<cgroups::Pids> parse_pids(const At& at)
{
    cgroups::Pids pids;
    Object obj(at);
    obj.require("limit", pids.limit);
    if (!obj.ok())
        return std::move(obj).error();
    return pids;
}

// blkio weights: 10..1000, 0 meaning "not set"; `at` is the object holding weight and leafWeight.
Result<void> check_weights(const At& at, const std::optional<std::uint16_t>& weight,
                           const std::optional<std::uint16_t>& leaf_weight)
{
    for (const auto& [key, value] : {std::pair{"weight", &weight}, {"leafWeight", &leaf_weight}})
        if (*value && **value != 0 && (**value < 10 || **value > 1000))
            return at.member(key, at.json).invalid("must be within 10..1000, got ", **value);
    return {};
}

// Block devices by number: weightDevice and throttle*Device entries.
Result<void> check_device_numbers(const At& at, std::int64_t major, std::int64_t minor)
{
    if (major < 0 || minor < 0)
        return at.invalid("major and minor must not be negative");
    return {};
}

Result<cgroups::WeightDevice> parse_weight_device(const At& at)
{
    cgroups::WeightDevice device;
    Object obj(at);
    obj.require("major", device.major);
    obj.require("minor", device.minor);
    obj.read("weight", device.weight);
    obj.read("leafWeight", device.leaf_weight);
    if (!obj.ok())
        return std::move(obj).error();
    if (auto numbers = check_device_numbers(at, device.major, device.minor); !numbers)
        return std::move(numbers).error();
    if (auto weights = check_weights(at, device.weight, device.leaf_weight); !weights)
        return std::move(weights).error();
    return device;
}

Result<cgroups::ThrottleDevice> parse_throttle_device(const At& at)
{
    cgroups::ThrottleDevice device;
    Object obj(at);
    obj.require("major", device.major);
    obj.require("minor", device.minor);
    obj.require("rate", device.rate);
    if (!obj.ok())
        return std::move(obj).error();
    if (auto numbers = check_device_numbers(at, device.major, device.minor); !numbers)
        return std::move(numbers).error();
    return device;
}

Result<std::vector<cgroups::ThrottleDevice>> parse_throttle_list(const At& at)
{
    return spec_json::decode_array<cgroups::ThrottleDevice>(at, parse_throttle_device);
}

Result<cgroups::BlockIo> parse_block_io(const At& at)
{
    cgroups::BlockIo io;
    Object obj(at);
    obj.read("weight", io.weight);
    obj.read("leafWeight", io.leaf_weight);
    obj.read("weightDevice", io.weight_device, [](const At& a) {
        return spec_json::decode_array<cgroups::WeightDevice>(a, parse_weight_device);
    });
    obj.read("throttleReadBpsDevice", io.throttle_read_bps, parse_throttle_list);
    obj.read("throttleWriteBpsDevice", io.throttle_write_bps, parse_throttle_list);
    obj.read("throttleReadIOPSDevice", io.throttle_read_iops, parse_throttle_list);
    obj.read("throttleWriteIOPSDevice", io.throttle_write_iops, parse_throttle_list);
    if (!obj.ok())
        return std::move(obj).error();
    if (auto weights = check_weights(at, io.weight, io.leaf_weight); !weights)
        return std::move(weights).error();
    return io;
}

Result<cgroups::HugepageLimit> parse_hugepage_limit(const At& at)
{
    cgroups::HugepageLimit limit;
    Object obj(at);
    obj.require("pageSize", limit.page_size);
    obj.require("limit", limit.limit);
    if (!obj.ok())
        return std::move(obj).error();
    // Becomes part of a file name (hugetlb.2MB.max): digits and a unit, nothing else.
    const auto& size = limit.page_size;
    const auto digits = size.find_first_not_of("0123456789");
    const auto unit = digits == std::string::npos ? "" : size.substr(digits);
    if (digits == 0 || (unit != "KB" && unit != "MB" && unit != "GB"))
        return at.member("pageSize", at.json)
            .invalid("expected a size like 2MB or 1GB, got ", berth::quoted(size));
    return limit;
}

Result<std::map<std::string, std::string>> parse_unified(const At& at)
{
    auto map = Decoder<std::map<std::string, std::string>>::decode(at);
    if (!map)
        return map;
    for (const auto& [key, value] : *map) {
        // Keys are file names in the container's cgroup directory: "memory.high", never a path.
        const bool shaped =
            !key.empty() && key.front() != '.' && key.find('.') != std::string::npos &&
            key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.-") == std::string::npos;
        if (!shaped)
            return at.invalid("bad cgroup file name ", berth::quoted(key));
    }
    return map;
}

} // namespace

Result<cgroups::Resources> parse_resources(const At& at)
{
    cgroups::Resources resources;
    Object obj(at);
    obj.read("devices", resources.devices, [](const At& a) {
        return spec_json::decode_array<cgroups::DeviceRule>(a, parse_device_rule);
    });
    obj.read("memory", resources.memory, parse_memory);
    obj.read("cpu", resources.cpu, parse_cpu);
    obj.read("pids", resources.pids, parse_pids);
    obj.read("blockIO", resources.block_io, parse_block_io);
    obj.read("hugepageLimits", resources.hugepage_limits, [](const At& a) {
        return spec_json::decode_array<cgroups::HugepageLimit>(a, parse_hugepage_limit);
    });
    obj.read("unified", resources.unified, parse_unified);
    obj.refuse("network");
    obj.refuse("rdma");
    if (!obj.ok())
        return std::move(obj).error();
    return resources;
}

} // namespace berth::runtime::spec_parts
