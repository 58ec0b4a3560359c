// tests/fuzz/spec_fuzz.cpp — config.json bytes from a bundle (untrusted) -> parse_spec, and the
// same bytes as an `exec --process` document -> parse_process. Properties: refusals explain
// themselves; what is accepted satisfies the invariants spec.hpp promises downstream code, and
// accepted linux.resources go on through the cgroup planner (cgroups::internal::plan) for a
// unified and a hybrid host, as create would. Everything accepted is written back with
// spec_to_json / process_to_json and must parse again to the same value.
#include <cstddef>
#include <cstdint>
#include "cgroups/internal.hpp"
#include "runtime/spec.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

namespace {

void check_process(const runtime::Process& process)
{
    fuzz::require(!process.args.empty(), "an accepted process has args");
    fuzz::require(!process.cwd.empty() && process.cwd.front() == '/',
                  "an accepted process has an absolute cwd");
}

cgroups::Host unified_host()
{
    cgroups::Host host;
    host.mode = cgroups::Mode::Unified;
    host.unified_mount = "/sys/fs/cgroup";
    host.v2_controllers = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"};
    return host;
}

cgroups::Host hybrid_host() // the CI machine: v1 for everything but hugetlb
{
    cgroups::Host host;
    host.mode = cgroups::Mode::Hybrid;
    host.unified_mount = "/sys/fs/cgroup/unified";
    host.v2_controllers = {"hugetlb"};
    for (const char* c :
         {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"})
        host.v1_mounts[c] = std::string("/sys/fs/cgroup/") + c;
    return host;
}

void check_plan(const cgroups::Resources& resources)
{
    static const cgroups::Host hosts[] = {unified_host(), hybrid_host()};
    for (const auto& host : hosts) {
        auto writes = cgroups::internal::plan(resources, host);
        if (!writes) {
            fuzz::require_explained(writes.error());
            continue;
        }
        for (const auto& write : *writes)
            fuzz::require(!write.file.empty() && write.file.find('/') == std::string::npos,
                          "a planned cgroup write names one file in the cgroup directory");
    }
}

void check_spec(const runtime::Spec& spec)
{
    if (spec.process)
        check_process(*spec.process);
    if (spec.linux.resources)
        check_plan(*spec.linux.resources);
    for (const auto& mount : spec.mounts)
        fuzz::require(!mount.destination.empty(), "an accepted mount has a destination");
    for (const auto* hooks :
         {&spec.hooks.prestart, &spec.hooks.create_runtime, &spec.hooks.create_container,
          &spec.hooks.start_container, &spec.hooks.poststart, &spec.hooks.poststop})
        for (const auto& hook : *hooks) {
            fuzz::require(!hook.path.empty() && hook.path.front() == '/',
                          "an accepted hook has an absolute path");
            fuzz::require(!hook.timeout || *hook.timeout > 0, "a hook timeout is positive");
        }
    if (spec.linux.seccomp)
        for (const auto& rule : spec.linux.seccomp->syscalls)
            for (const auto& arg : rule.args)
                fuzz::require(arg.index <= 5, "a seccomp argument index is 0..5");
    // The id maps the spec accepted must be writable to /proc/<pid>/uid_map as they are.
    if (!spec.linux.uid_mappings.empty())
        fuzz::require(runtime::format_id_map(spec.linux.uid_mappings).has_value(),
                      "accepted uidMappings format");
    if (!spec.linux.gid_mappings.empty())
        fuzz::require(runtime::format_id_map(spec.linux.gid_mappings).has_value(),
                      "accepted gidMappings format");
}

// The writer round-trips with the parser: parse(write(x)) == x for every accepted x.
void check_round_trip(const runtime::Spec& spec)
{
    auto text = runtime::spec_to_json(spec);
    fuzz::require(text.has_value(), "an accepted spec can be written");
    auto again = runtime::parse_spec(*text);
    fuzz::require(again.has_value(), "a written spec parses");
    fuzz::require(*again == spec, "a written spec parses to the same spec");
}

void check_round_trip(const runtime::Process& process)
{
    auto text = runtime::process_to_json(process);
    fuzz::require(text.has_value(), "an accepted process can be written");
    auto again = runtime::parse_process(*text);
    fuzz::require(again.has_value(), "a written process parses");
    fuzz::require(*again == process, "a written process parses to the same process");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    const auto text = fuzz::as_text(data, size);

    auto spec = runtime::parse_spec(text);
    if (spec) {
        check_spec(*spec);
        check_round_trip(*spec);
    } else
        fuzz::require_explained(spec.error());

    auto process = runtime::parse_process(text);
    if (process) {
        check_process(*process);
        check_round_trip(*process);
    } else
        fuzz::require_explained(process.error());
    return 0;
}
