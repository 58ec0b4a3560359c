// runtime/spec/spec_parts.hpp — internal to the spec parser: one parser per part of config.json,
// each in its own file, all reporting errors by JSON path (see spec_json.hpp).
#pragma once
#include "runtime/spec.hpp"
#include "runtime/spec/spec_json.hpp"

namespace berth::runtime::spec_parts {

using spec_json::At;

Result<Process> parse_process(const At& at);              // spec_process.cpp
Result<Hooks> parse_hooks(const At& at);                  // spec_hooks.cpp
Result<Linux> parse_linux(const At& at);                  // spec_linux.cpp
Result<cgroups::Resources> parse_resources(const At& at); // spec_resources.cpp
Result<Seccomp> parse_seccomp(const At& at);              // spec_seccomp.cpp
// Names for what the parsers resolved, for spec_to_json ("" or an error when there is none).
std::string_view action_name(SeccompAction action);         // spec_seccomp.cpp
std::string_view op_name(SeccompOp op);                     // spec_seccomp.cpp
Result<std::string> architecture_name(std::uint32_t token); // spec_seccomp.cpp
std::string_view propagation_name(unsigned long flags);     // spec_linux.cpp
// The writers: a part of a Spec as JSON in the spec's key order (spec_write*.cpp).
using Ordered = nlohmann::ordered_json;
Result<Ordered> write_process(const Process& process);        // spec_write.cpp
Result<Ordered> write_linux(const Linux& linux);              // spec_write_linux.cpp
Ordered write_resources(const cgroups::Resources& resources); // spec_write_linux.cpp
// The plain fields of linux.resources.memory and .cpu in the spec's key order, named once for the
// parser and the writer: field(key, member) for each member of `memory` / `cpu` (const or not).
template <class Memory, class Field>
void memory_fields(Memory& memory, Field field)
{
    field("limit", memory.limit);
    field("reservation", memory.reservation);
    field("swap", memory.swap);
    field("kernel", memory.kernel);
    field("kernelTCP", memory.kernel_tcp);
    field("swappiness", memory.swappiness);
    field("disableOOMKiller", memory.disable_oom_killer);
    field("useHierarchy", memory.use_hierarchy);
    field("checkBeforeUpdate", memory.check_before_update);
}
template <class Cpu, class Field>
void cpu_fields(Cpu& cpu, Field field)
{
    field("shares", cpu.shares);
    field("quota", cpu.quota);
    field("burst", cpu.burst);
    field("period", cpu.period);
    field("realtimeRuntime", cpu.realtime_runtime);
    field("realtimePeriod", cpu.realtime_period);
    field("cpus", cpu.cpus);
    field("mems", cpu.mems);
    field("idle", cpu.idle);
}
// Checks between fields of different parts (namespaces vs hostname, mappings, sysctl).
Result<void> check_cross_fields(const Spec& spec); // spec_checks.cpp

} // namespace berth::runtime::spec_parts
