// tests/unit/spec_linux_test.cpp — parse_spec rejections under "linux" (namespaces, mappings,
// devices, resources, sysctl, seccomp, paths) and the cross-field rules, each with its path.
#define BOOST_TEST_MODULE spec_linux
#include <functional>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include "runtime/spec.hpp"
#include "tests/unit/spec_fixture.hpp"

using namespace berth::runtime;
using Json = nlohmann::json;

namespace {

std::string rejection(const Json& config)
{
    auto spec = parse_spec(config.dump());
    return spec ? "(accepted)" : spec.error().context;
}

void expect_rejection(std::string_view base, const std::function<void(Json&)>& change,
                      const std::string& message)
{
    auto config = Json::parse(base);
    change(config);
    BOOST_TEST(rejection(config) == message);
}
void runc_rejects(const std::function<void(Json&)>& change, const std::string& message)
{
    expect_rejection(berth::test::runc_spec, change, message);
}
void full_rejects(const std::function<void(Json&)>& change, const std::string& message)
{
    expect_rejection(berth::test::full_spec, change, message);
}
Json& resources(Json& c)
{
    return c["linux"]["resources"];
}
Json& seccomp(Json& c)
{
    return c["linux"]["seccomp"];
}

} // namespace

BOOST_AUTO_TEST_SUITE(namespaces_and_mappings)

BOOST_AUTO_TEST_CASE(namespace_types_and_duplicates_are_checked)
{
    runc_rejects([](Json& c) { c["linux"]["namespaces"][1]["type"] = "net"; },
                 "linux.namespaces[1].type: unknown namespace type 'net'");
    runc_rejects(
        [](Json& c) {
            c["linux"]["namespaces"].push_back({{"type", "pid"}});
        },
        "linux.namespaces[5].type: duplicate namespace 'pid'");
    runc_rejects([](Json& c) { c["linux"]["namespaces"][0]["path"] = "proc/1/ns/pid"; },
                 "linux.namespaces[0].path: must be an absolute path, got 'proc/1/ns/pid'");
    runc_rejects([](Json& c) { c["linux"]["namespaces"][0].erase("type"); },
                 "linux.namespaces[0].type: required");
    runc_rejects([](Json& c) { c["linux"]["namespaces"].erase(4); },
                 "mounts: needs a mount namespace in linux.namespaces");
}

BOOST_AUTO_TEST_CASE(user_namespace_and_mappings_go_together)
{
    runc_rejects(
        [](Json& c) {
            c["linux"]["namespaces"].push_back({{"type", "user"}});
        },
        "linux.uidMappings: required by a new user namespace");
    runc_rejects(
        [](Json& c) {
            c["linux"]["namespaces"].push_back({{"type", "user"}});
            c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
        },
        "linux.gidMappings: required by a new user namespace");
    runc_rejects(
        [](Json& c) {
            c["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
        },
        "linux.gidMappings: set, but linux.namespaces has no user namespace");
    // Joining an existing user namespace brings its own mappings.
    runc_rejects(
        [](Json& c) {
            c["linux"]["namespaces"].push_back({{"type", "user"}, {"path", "/proc/1/ns/user"}});
        },
        "(accepted)");
}

BOOST_AUTO_TEST_CASE(mapping_values_are_checked)
{
    full_rejects([](Json& c) { c["linux"]["uidMappings"][0]["size"] = 0; },
                 "linux.uidMappings[0].size: must not be zero");
    full_rejects([](Json& c) { c["linux"]["gidMappings"][0]["hostID"] = 4294967290u; },
                 "linux.gidMappings[0].size: hostID + size overflows the id space");
    full_rejects([](Json& c) { c["linux"]["uidMappings"][0]["containerID"] = 4294967295u; },
                 "linux.uidMappings[0].size: containerID + size overflows the id space");
    full_rejects([](Json& c) { c["linux"]["uidMappings"][0].erase("hostID"); },
                 "linux.uidMappings[0].hostID: required");
    full_rejects(
        [](Json& c) {
            c["linux"]["uidMappings"].push_back(
                {{"containerID", 100}, {"hostID", 300000}, {"size", 10}});
        },
        "linux.uidMappings: container id ranges overlap at 100");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(devices_paths_and_sysctl)

BOOST_AUTO_TEST_CASE(devices_are_checked)
{
    full_rejects([](Json& c) { c["linux"]["devices"][0]["type"] = "x"; },
                 "linux.devices[0].type: expected c, b, u or p, got 'x'");
    full_rejects([](Json& c) { c["linux"]["devices"][0]["path"] = "dev/fuse"; },
                 "linux.devices[0].path: must be an absolute path, got 'dev/fuse'");
    full_rejects([](Json& c) { c["linux"]["devices"][0].erase("minor"); },
                 "linux.devices[0]: major and minor are required for a c device");
    full_rejects([](Json& c) { c["linux"]["devices"][0]["fileMode"] = 0200666; },
                 "linux.devices[0].fileMode: holds bits other than file type and permissions: "
                 "65974");
    full_rejects([](Json& c) { c["linux"]["devices"][0]["major"] = -3; },
                 "linux.devices[0]: major and minor must not be negative");
}

BOOST_AUTO_TEST_CASE(paths_labels_and_propagation_are_checked)
{
    runc_rejects([](Json& c) { c["linux"]["maskedPaths"][3] = "proc/keys"; },
                 "linux.maskedPaths[3]: must be an absolute path, got 'proc/keys'");
    runc_rejects([](Json& c) { c["linux"]["readonlyPaths"] = {1}; },
                 "linux.readonlyPaths[0]: expected a string, got an integer");
    runc_rejects([](Json& c) { c["linux"]["rootfsPropagation"] = "recursive"; },
                 "linux.rootfsPropagation: unknown propagation 'recursive'");
    runc_rejects([](Json& c) { c["linux"]["mountLabel"] = Json::array(); },
                 "linux.mountLabel: expected a string, got an array");
    // No SELinux here: a label would be silently ignored, so it is refused by name.
    full_rejects(
        [](Json& c) { c["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0"; },
        "linux.mountLabel: SELinux is not supported by berth, so a mount label cannot "
        "be applied");
    runc_rejects([](Json& c) { c["linux"]["cgroupsPath"] = "/berth/../../etc"; },
                 "linux.cgroupsPath: must not contain '..', got '/berth/../../etc'");
    runc_rejects(
        [](Json& c) {
            c["linux"]["intelRdt"] = {{"closID", "x"}};
        },
        "linux.intelRdt: not supported by berth");
    runc_rejects(
        [](Json& c) {
            c["linux"]["personality"] = {{"domain", "LINUX32"}};
        },
        "linux.personality: not supported by berth");
}

BOOST_AUTO_TEST_CASE(sysctl_needs_the_matching_namespace)
{
    runc_rejects(
        [](Json& c) {
            c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
        },
        "(accepted)");
    runc_rejects(
        [](Json& c) {
            c["linux"]["namespaces"].erase(1); // network
            c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
        },
        "linux.sysctl: 'net.ipv4.ip_forward' needs a network namespace in linux.namespaces");
    runc_rejects(
        [](Json& c) {
            c["linux"]["namespaces"].erase(2); // ipc
            c["linux"]["sysctl"] = {{"kernel.shmmax", "1"}};
        },
        "linux.sysctl: 'kernel.shmmax' needs an ipc namespace in linux.namespaces");
    runc_rejects(
        [](Json& c) {
            c["linux"]["sysctl"] = {{"vm.swappiness", "1"}};
        },
        "linux.sysctl: 'vm.swappiness' is not in a namespace of the container");
    runc_rejects(
        [](Json& c) {
            c["linux"]["sysctl"] = {{"kernel.hostname", "x"}};
        },
        "linux.sysctl: 'kernel.hostname' conflicts with the hostname field");
    runc_rejects(
        [](Json& c) {
            c["linux"]["sysctl"] = {{"net/../../x", "1"}};
        },
        "linux.sysctl: bad sysctl name 'net/../../x'");
    runc_rejects(
        [](Json& c) {
            c["linux"]["sysctl"] = {{"net.core.somaxconn", 1}};
        },
        "linux.sysctl.net.core.somaxconn: expected a string, got an integer");
}

BOOST_AUTO_TEST_CASE(hostname_needs_a_uts_namespace)
{
    runc_rejects([](Json& c) { c["linux"]["namespaces"].erase(3); },
                 "hostname: setting it needs a uts namespace in linux.namespaces");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(resources_rejections)

BOOST_AUTO_TEST_CASE(device_rules_are_checked)
{
    runc_rejects([](Json& c) { resources(c)["devices"][0]["access"] = "rwx"; },
                 "linux.resources.devices[0].access: expected letters of 'rwm', got 'rwx'");
    runc_rejects([](Json& c) { resources(c)["devices"][0]["type"] = "p"; },
                 "linux.resources.devices[0].type: expected a, b or c, got 'p'");
    runc_rejects([](Json& c) { resources(c)["devices"][0].erase("allow"); },
                 "linux.resources.devices[0].allow: required");
    runc_rejects([](Json& c) { resources(c)["devices"][0]["major"] = -2; },
                 "linux.resources.devices[0]: major and minor must be -1 (any) or more");
}

BOOST_AUTO_TEST_CASE(memory_and_cpu_values_are_checked)
{
    full_rejects([](Json& c) { resources(c)["memory"]["limit"] = -2; },
                 "linux.resources.memory.limit: must be -1 or more, got -2");
    full_rejects([](Json& c) { resources(c)["memory"]["swappiness"] = 101; },
                 "linux.resources.memory.swappiness: must be within 0..100, got 101");
    full_rejects([](Json& c) { resources(c)["memory"]["swap"] = 1024; },
                 "linux.resources.memory.swap: memory+swap limit 1024 is below the memory "
                 "limit 536870912");
    full_rejects([](Json& c) { resources(c)["memory"]["disableOOMKiller"] = 0; },
                 "linux.resources.memory.disableOOMKiller: expected a boolean, got an integer");
    full_rejects([](Json& c) { resources(c)["cpu"]["period"] = 10; },
                 "linux.resources.cpu.period: must be within 1000..1000000 microseconds, got 10");
    full_rejects([](Json& c) { resources(c)["cpu"]["cpus"] = "0-"; },
                 "linux.resources.cpu.cpus: not a cpu list: '0-'");
    full_rejects([](Json& c) { resources(c)["cpu"]["mems"] = "3-1"; },
                 "linux.resources.cpu.mems: not a node list: '3-1'");
    full_rejects([](Json& c) { resources(c)["cpu"]["shares"] = -5; },
                 "linux.resources.cpu.shares: value -5 out of range 0..18446744073709551615");
    full_rejects([](Json& c) { resources(c)["cpu"]["quota"] = -7; },
                 "linux.resources.cpu.quota: must be -1 or more, got -7");
    full_rejects([](Json& c) { resources(c)["cpu"]["idle"] = 2; },
                 "linux.resources.cpu.idle: must be 0 or 1, got 2");
    full_rejects([](Json& c) { resources(c)["pids"] = Json::object(); },
                 "linux.resources.pids.limit: required");
}

BOOST_AUTO_TEST_CASE(block_io_hugepages_and_unified_are_checked)
{
    full_rejects([](Json& c) { resources(c)["blockIO"]["weight"] = 5; },
                 "linux.resources.blockIO.weight: must be within 10..1000, got 5");
    full_rejects([](Json& c) { resources(c)["blockIO"]["weight"] = 70000; },
                 "linux.resources.blockIO.weight: value 70000 out of range 0..65535");
    full_rejects([](Json& c) { resources(c)["blockIO"]["weightDevice"][0]["leafWeight"] = 2000; },
                 "linux.resources.blockIO.weightDevice[0].leafWeight: must be within "
                 "10..1000, got 2000");
    full_rejects([](Json& c) { resources(c)["blockIO"]["throttleReadBpsDevice"][0].erase("rate"); },
                 "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required");
    full_rejects([](Json& c) { resources(c)["hugepageLimits"][0]["pageSize"] = "2MB/../x"; },
                 "linux.resources.hugepageLimits[0].pageSize: expected a size like 2MB or "
                 "1GB, got '2MB/../x'");
    full_rejects(
        [](Json& c) {
            resources(c)["unified"] = {{"../cgroup.procs", "1"}};
        },
        "linux.resources.unified: bad cgroup file name '../cgroup.procs'");
    full_rejects(
        [](Json& c) {
            resources(c)["network"] = {{"classID", 1}};
        },
        "linux.resources.network: not supported by berth");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(seccomp_rejections)

BOOST_AUTO_TEST_CASE(actions_operators_and_architectures_are_checked)
{
    full_rejects([](Json& c) { seccomp(c)["defaultAction"] = "SCMP_ACT_NOPE"; },
                 "linux.seccomp.defaultAction: unknown seccomp action 'SCMP_ACT_NOPE'");
    full_rejects([](Json& c) { seccomp(c).erase("defaultAction"); },
                 "linux.seccomp.defaultAction: required");
    full_rejects([](Json& c) { seccomp(c)["architectures"][1] = "SCMP_ARCH_Z80"; },
                 "linux.seccomp.architectures[1]: unknown architecture 'SCMP_ARCH_Z80'");
    full_rejects([](Json& c) { seccomp(c)["flags"] = {"SECCOMP_FILTER_FLAG_FAST"}; },
                 "linux.seccomp.flags[0]: unknown seccomp flag 'SECCOMP_FILTER_FLAG_FAST'");
    full_rejects([](Json& c) { seccomp(c)["syscalls"][1]["args"][0]["op"] = "SCMP_CMP_XOR"; },
                 "linux.seccomp.syscalls[1].args[0].op: unknown seccomp operator 'SCMP_CMP_XOR'");
    full_rejects([](Json& c) { seccomp(c)["syscalls"][1]["args"][0]["index"] = 6; },
                 "linux.seccomp.syscalls[1].args[0].index: must be within 0..5, got 6");
    full_rejects([](Json& c) { seccomp(c)["syscalls"][0]["names"] = Json::array(); },
                 "linux.seccomp.syscalls[0].names: must not be empty");
    full_rejects([](Json& c) { seccomp(c)["syscalls"][0]["names"][1] = ""; },
                 "linux.seccomp.syscalls[0].names[1]: empty syscall name");
}

BOOST_AUTO_TEST_CASE(return_values_and_notify_are_checked)
{
    full_rejects([](Json& c) { seccomp(c)["syscalls"][0]["errnoRet"] = 1; },
                 "linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE "
                 "take a return value");
    full_rejects([](Json& c) { seccomp(c)["defaultErrnoRet"] = 5000; },
                 "linux.seccomp.defaultErrnoRet: must be at most 4095, got 5000");
    full_rejects([](Json& c) { seccomp(c)["defaultAction"] = "SCMP_ACT_NOTIFY"; },
                 "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
    full_rejects([](Json& c) { seccomp(c)["syscalls"][3]["action"] = "SCMP_ACT_NOTIFY"; },
                 "linux.seccomp.syscalls[3].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE "
                 "take a return value");
    full_rejects(
        [](Json& c) {
            seccomp(c)["syscalls"][3]["action"] = "SCMP_ACT_NOTIFY";
            seccomp(c)["syscalls"][3].erase("errnoRet");
        },
        "linux.seccomp.listenerPath: required by SCMP_ACT_NOTIFY rules");
    full_rejects([](Json& c) { seccomp(c)["listenerPath"] = "/run/agent.sock"; },
                 "linux.seccomp.listenerPath: set, but no rule uses SCMP_ACT_NOTIFY");
    full_rejects(
        [](Json& c) {
            seccomp(c)["listenerPath"] = "/run/agent.sock";
            seccomp(c)["syscalls"][0]["action"] = "SCMP_ACT_NOTIFY";
        },
        "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for 'write'");
}

BOOST_AUTO_TEST_SUITE_END()
