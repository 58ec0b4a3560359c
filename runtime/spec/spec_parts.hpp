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
// Checks between fields of different parts (namespaces vs hostname, mappings, sysctl).
Result<void> check_cross_fields(const Spec& spec); // spec_checks.cpp

} // namespace berth::runtime::spec_parts
