// Unit tests of cgroups/: parsers, host detection from fixture text, v1 -> v2 conversions, the
// per-host write plan and its refusals, the device eBPF program shape. No root, no cgroupfs.
#define BOOST_TEST_MODULE cgroups
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include "cgroups/cgroups.hpp"
#include "cgroups/internal.hpp"

using namespace berth::cgroups;
using internal::Write;

namespace {

// This CI machine's /proc/self/mountinfo, cgroup lines (plus noise around them).
const char* hybrid_mountinfo =
    "22 1 0:21 / / rw,relatime - ext4 /dev/vda rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

const char* unified_mountinfo =
    "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "29 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

Host unified_host()
{
    auto host = detect_from(unified_mountinfo, "cpuset cpu io memory hugetlb pids rdma misc\n");
    BOOST_TEST_REQUIRE(host.has_value());
    return *host;
}

Host hybrid_host()
{
    auto host = detect_from(hybrid_mountinfo, "hugetlb\n");
    BOOST_TEST_REQUIRE(host.has_value());
    return *host;
}

const Write* find_write(const std::vector<Write>& writes, const std::string& file)
{
    auto it =
        std::find_if(writes.begin(), writes.end(), [&](const Write& w) { return w.file == file; });
    return it == writes.end() ? nullptr : &*it;
}

bool mentions(const berth::Error& error, const std::string& text)
{
    return error.message().find(text) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(proc_cgroup)

BOOST_AUTO_TEST_CASE(hybrid_host_lists_v1_controllers_then_the_unified_line)
{
    auto lines = parse_proc_cgroup("4:cpu,cpuacct:/user.slice\n0::/user.slice\n");
    BOOST_TEST_REQUIRE(lines.has_value());
    BOOST_TEST_REQUIRE(lines->size() == 2u);
    BOOST_TEST((*lines)[0].hierarchy_id == 4u);
    BOOST_TEST((*lines)[0].controllers.size() == 2u);
    BOOST_TEST((*lines)[0].controllers[1] == "cpuacct");
    BOOST_TEST((*lines)[1].controllers.empty());
    BOOST_TEST((*lines)[1].path == "/user.slice");
}

BOOST_AUTO_TEST_CASE(a_path_may_contain_colons)
{
    auto lines = parse_proc_cgroup("0::/a:b:c\n");
    BOOST_TEST_REQUIRE(lines.has_value());
    BOOST_TEST((*lines)[0].path == "/a:b:c");
}

BOOST_AUTO_TEST_CASE(garbage_is_einval_not_a_crash)
{
    for (const char* text : {"not a cgroup line\n", "x::/a\n", "1:cpu:relative\n", ":\n"}) {
        auto lines = parse_proc_cgroup(text);
        BOOST_TEST_REQUIRE(!lines.has_value());
        BOOST_TEST(lines.error().code == EINVAL);
    }
}

BOOST_AUTO_TEST_CASE(delegated_root_strips_the_agent_leaf)
{
    auto root = delegated_root("0::/system.slice/berth.service/agent\n");
    BOOST_TEST_REQUIRE(root.has_value());
    BOOST_TEST(*root == "/system.slice/berth.service");
    root = delegated_root("0::/system.slice/berth.service\n");
    BOOST_TEST_REQUIRE(root.has_value());
    BOOST_TEST(*root == "/system.slice/berth.service");
}

BOOST_AUTO_TEST_CASE(delegated_root_on_a_hybrid_host_follows_name_systemd)
{
    auto root = delegated_root("2:memory:/system.slice/berth.service\n"
                               "1:name=systemd:/system.slice/berth.service\n0::/\n");
    BOOST_TEST_REQUIRE(root.has_value());
    BOOST_TEST(*root == "/system.slice/berth.service");
    BOOST_TEST(!delegated_root("3:memory:/x\n").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(paths)

BOOST_AUTO_TEST_CASE(paths_are_normalized_and_escapes_refused)
{
    BOOST_TEST(*normalize_path("/berth//task/web/") == "/berth/task/web");
    BOOST_TEST(!normalize_path("/").has_value());
    BOOST_TEST(*normalize_path("/", true) == "/");
    for (const char* bad : {"relative", "", "/a/../b", "/a/./b"}) {
        auto r = normalize_path(bad);
        BOOST_TEST_REQUIRE(!r.has_value());
        BOOST_TEST(r.error().code == EINVAL);
    }
}

BOOST_AUTO_TEST_CASE(within_compares_whole_components)
{
    BOOST_TEST(path_within("/berth/a", "/berth"));
    BOOST_TEST(path_within("/berth", "/berth"));
    BOOST_TEST(!path_within("/berthx", "/berth"));
    BOOST_TEST(!path_within("/system.slice", "/berth"));
    BOOST_TEST(path_within("/system.slice", "/"));
}

BOOST_AUTO_TEST_CASE(systemd_form_expands_slices_as_systemd_does)
{
    BOOST_TEST(*systemd_cgroup_path("system.slice:docker:abc") == "/system.slice/docker-abc.scope");
    BOOST_TEST(*systemd_cgroup_path("a-b.slice:p:n") == "/a.slice/a-b.slice/p-n.scope");
    BOOST_TEST(*systemd_cgroup_path(":runc:x") == "/system.slice/runc-x.scope");
    BOOST_TEST(*systemd_cgroup_path("-.slice:p:n") == "/p-n.scope");
    BOOST_TEST(*systemd_cgroup_path("machine.slice::n") == "/machine.slice/n.scope");
    BOOST_TEST(*systemd_cgroup_path("a.slice:p:a-b.slice") == "/a.slice/a-b.slice");
    for (const char* bad : {"/berth/x", "a.slice:p", "a.slice:p:n:x", "nota:p:n", "a--b.slice:p:n",
                            "a.slice:p:", "a.slice:p:../x", "a/b.slice:p:n"}) {
        auto r = systemd_cgroup_path(bad);
        BOOST_TEST_REQUIRE(!r.has_value(), bad);
        BOOST_TEST(r.error().message().find(bad) != std::string::npos, r.error().message());
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(flat_keyed)

BOOST_AUTO_TEST_CASE(memory_events_are_read_by_key)
{
    auto values = parse_flat_keyed("low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\n");
    BOOST_TEST_REQUIRE(values.has_value());
    BOOST_TEST(values->at("oom_kill") == 2u);
    BOOST_TEST(values->at("max") == 12u);
}

BOOST_AUTO_TEST_CASE(a_non_number_value_is_refused)
{
    auto values = parse_flat_keyed("usage_usec 12\nbad x\n");
    BOOST_TEST_REQUIRE(!values.has_value());
    BOOST_TEST(values.error().code == EINVAL);
    BOOST_TEST(mentions(values.error(), "bad"));
    BOOST_TEST(!parse_flat_keyed("novalue\n").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(detection)

BOOST_AUTO_TEST_CASE(this_ci_machine_is_hybrid_with_hugetlb_on_v2)
{
    Host host = hybrid_host();
    BOOST_TEST((host.mode == Mode::Hybrid));
    BOOST_TEST(host.unified_mount == "/sys/fs/cgroup/unified");
    BOOST_TEST(host.v1_mounts.at("memory") == "/sys/fs/cgroup/memory");
    BOOST_TEST(host.v1_mounts.at("cpuacct") == "/sys/fs/cgroup/cpuacct");
    BOOST_TEST(host.v1_mounts.at("name=systemd") == "/sys/fs/cgroup/systemd");
    BOOST_TEST(host.v2_controllers == std::vector<std::string>{"hugetlb"});
    BOOST_TEST(*internal::controller_is_v2(host, "hugetlb"));
    BOOST_TEST(!*internal::controller_is_v2(host, "memory"));
}

BOOST_AUTO_TEST_CASE(a_pure_v2_host_is_unified)
{
    Host host = unified_host();
    BOOST_TEST((host.mode == Mode::Unified));
    BOOST_TEST(host.unified_mount == "/sys/fs/cgroup");
    BOOST_TEST(host.v2_controllers.size() == 8u);
}

BOOST_AUTO_TEST_CASE(a_pure_v1_host_with_comounted_cpu_cpuacct_is_legacy)
{
    auto host =
        detect_from("31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                    "34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
                    "");
    BOOST_TEST_REQUIRE(host.has_value());
    BOOST_TEST((host->mode == Mode::Legacy));
    BOOST_TEST(host->v1_mounts.at("cpu") == "/sys/fs/cgroup/cpu,cpuacct");
    BOOST_TEST(host->v1_mounts.at("cpuacct") == "/sys/fs/cgroup/cpu,cpuacct");
    auto missing = internal::controller_is_v2(*host, "pids");
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(mentions(missing.error(), "controller pids is not available on this legacy host"));
}

BOOST_AUTO_TEST_CASE(escaped_mount_points_are_unescaped)
{
    auto host = detect_from("40 30 0:37 / /mnt/my\\040cgroup rw - cgroup2 cgroup2 rw\n", "");
    BOOST_TEST_REQUIRE(host.has_value());
    BOOST_TEST(host->unified_mount == "/mnt/my cgroup");
}

BOOST_AUTO_TEST_CASE(no_cgroup_mount_is_enoent_and_garbage_is_einval)
{
    auto none = detect_from("22 1 0:21 / / rw - ext4 /dev/vda rw\n", "");
    BOOST_TEST_REQUIRE(!none.has_value());
    BOOST_TEST(none.error().code == ENOENT);
    auto garbage = detect_from("22 1 0:21\n", "");
    BOOST_TEST_REQUIRE(!garbage.has_value());
    BOOST_TEST(garbage.error().code == EINVAL);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(conversions)

BOOST_AUTO_TEST_CASE(shares_to_weight_matches_runc)
{
    BOOST_TEST(shares_to_weight(0) == 0u);
    BOOST_TEST(shares_to_weight(2) == 1u);
    BOOST_TEST(shares_to_weight(1024) == 39u);
    BOOST_TEST(shares_to_weight(262144) == 10000u);
    BOOST_TEST(shares_to_weight(1) == 1u);           // clamped
    BOOST_TEST(shares_to_weight(1000000) == 10000u); // clamped
}

BOOST_AUTO_TEST_CASE(blkio_weight_to_io_weight_matches_runc)
{
    BOOST_TEST(blkio_weight_to_io_weight(10) == 1u);
    BOOST_TEST(blkio_weight_to_io_weight(1000) == 10000u);
    BOOST_TEST(blkio_weight_to_io_weight(500) == 4950u);
}

BOOST_AUTO_TEST_CASE(swap_becomes_swap_minus_limit)
{
    auto swap = swap_to_v2(300, 100);
    BOOST_TEST_REQUIRE(swap.has_value());
    BOOST_TEST(**swap == 200);
    BOOST_TEST(**swap_to_v2(-1, 100) == -1);
    BOOST_TEST(**swap_to_v2(std::nullopt, -1) == -1); // both unlimited, as on v1
    BOOST_TEST(!swap_to_v2(std::nullopt, 100)->has_value());
    BOOST_TEST(**swap_to_v2(100, 100) == 0);
}

BOOST_AUTO_TEST_CASE(swap_without_a_limit_or_below_it_is_refused)
{
    auto no_limit = swap_to_v2(300, std::nullopt);
    BOOST_TEST_REQUIRE(!no_limit.has_value());
    BOOST_TEST(mentions(no_limit.error(), "without a memory limit"));
    auto below = swap_to_v2(50, 100);
    BOOST_TEST_REQUIRE(!below.has_value());
    BOOST_TEST(mentions(below.error(), "below the memory limit"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(plan)

BOOST_AUTO_TEST_CASE(v2_plan_converts_the_oci_values)
{
    Resources r;
    r.memory = Memory{};
    r.memory->limit = 32 << 20;
    r.memory->swap = 64 << 20;
    r.memory->reservation = 16 << 20;
    r.cpu = Cpu{};
    r.cpu->shares = 1024;
    r.cpu->quota = 20000;
    r.cpu->period = 100000;
    r.cpu->cpus = "0";
    r.pids = Pids{0};
    auto writes = internal::plan(r, unified_host());
    BOOST_TEST_REQUIRE(writes.has_value());
    BOOST_TEST(find_write(*writes, "memory.max")->value == "33554432");
    BOOST_TEST(find_write(*writes, "memory.swap.max")->value == "33554432");
    BOOST_TEST(find_write(*writes, "memory.low")->value == "16777216");
    BOOST_TEST(find_write(*writes, "cpu.weight")->value == "39");
    BOOST_TEST(find_write(*writes, "cpu.max")->value == "20000 100000");
    BOOST_TEST(find_write(*writes, "cpuset.cpus")->value == "0");
    BOOST_TEST(find_write(*writes, "pids.max")->value == "max");
    for (const auto& w : *writes)
        BOOST_TEST(w.v2);
}

BOOST_AUTO_TEST_CASE(v2_plan_refuses_what_v2_cannot_do)
{
    Resources r;
    r.memory = Memory{};
    r.memory->swappiness = 10;
    auto writes = internal::plan(r, unified_host());
    BOOST_TEST_REQUIRE(!writes.has_value());
    BOOST_TEST(mentions(writes.error(), "swappiness: not supported on cgroup v2"));
    Resources rt;
    rt.cpu = Cpu{};
    rt.cpu->realtime_runtime = 1000;
    BOOST_TEST(!internal::plan(rt, unified_host()).has_value());
    Resources kernel;
    kernel.memory = Memory{};
    kernel.memory->kernel = 1 << 20;
    BOOST_TEST(!internal::plan(kernel, unified_host()).has_value());
}

BOOST_AUTO_TEST_CASE(hybrid_plan_puts_memory_on_v1_and_hugetlb_on_v2)
{
    Resources r;
    r.memory = Memory{};
    r.memory->limit = 1 << 20;
    r.memory->swap = 2 << 20;
    r.memory->swappiness = 0;
    r.hugepage_limits.push_back({"2MB", 4 << 20});
    r.block_io = BlockIo{};
    r.block_io->weight = 500;
    r.block_io->throttle_read_bps.push_back({8, 0, 1048576});
    auto writes = internal::plan(r, hybrid_host());
    BOOST_TEST_REQUIRE(writes.has_value());
    const Write* limit = find_write(*writes, "memory.limit_in_bytes");
    BOOST_TEST_REQUIRE(limit);
    BOOST_TEST(!limit->v2);
    BOOST_TEST(find_write(*writes, "memory.memsw.limit_in_bytes")->value == "2097152");
    BOOST_TEST(find_write(*writes, "memory.swappiness")->value == "0");
    const Write* huge = find_write(*writes, "hugetlb.2MB.max");
    BOOST_TEST_REQUIRE(huge);
    BOOST_TEST(huge->v2);
    BOOST_TEST(find_write(*writes, "blkio.weight")->fallback_file == "blkio.bfq.weight");
    BOOST_TEST(find_write(*writes, "blkio.throttle.read_bps_device")->value == "8:0 1048576");
}

BOOST_AUTO_TEST_CASE(v1_devices_deny_all_first_then_rules_in_order)
{
    Resources r;
    r.devices.push_back({false, 'a', std::nullopt, std::nullopt, "rwm"});
    r.devices.push_back({true, 'c', 1, 3, "rwm"});
    r.devices.push_back({true, 'c', 136, std::nullopt, "rw"});
    auto writes = internal::plan(r, hybrid_host());
    BOOST_TEST_REQUIRE(writes.has_value());
    BOOST_TEST_REQUIRE(writes->size() == 4u);
    BOOST_TEST((*writes)[0].file == "devices.deny");
    BOOST_TEST((*writes)[0].value == "a");
    BOOST_TEST((*writes)[2].file == "devices.allow");
    BOOST_TEST((*writes)[2].value == "c 1:3 rwm");
    BOOST_TEST((*writes)[3].value == "c 136:* rw");
}

BOOST_AUTO_TEST_CASE(v1_narrow_all_devices_rule_is_split_into_block_and_char)
{
    Resources r;
    r.devices.push_back({true, 'a', std::nullopt, std::nullopt, "r"});
    auto writes = internal::plan(r, hybrid_host());
    BOOST_TEST_REQUIRE(writes.has_value());
    BOOST_TEST_REQUIRE(writes->size() == 3u);
    BOOST_TEST((*writes)[1].value == "b *:* r");
    BOOST_TEST((*writes)[2].value == "c *:* r");
}

BOOST_AUTO_TEST_CASE(unified_keys_are_validated_and_refused_for_v1_controllers)
{
    Resources bad;
    bad.unified["../memory.max"] = "1";
    auto writes = internal::plan(bad, unified_host());
    BOOST_TEST_REQUIRE(!writes.has_value());
    BOOST_TEST(mentions(writes.error(), "is not a cgroup file name"));

    Resources v1_controller;
    v1_controller.unified["memory.high"] = "1000000";
    writes = internal::plan(v1_controller, hybrid_host());
    BOOST_TEST_REQUIRE(!writes.has_value());
    BOOST_TEST(mentions(writes.error(), "controller memory is on a cgroup v1 hierarchy"));

    Resources reserved;
    reserved.unified["cgroup.procs"] = "1";
    BOOST_TEST(!internal::plan(reserved, unified_host()).has_value());

    Resources ok;
    ok.unified["hugetlb.2MB.max"] = "0";
    writes = internal::plan(ok, hybrid_host());
    BOOST_TEST_REQUIRE(writes.has_value());
    BOOST_TEST((*writes)[0].v2);
}

BOOST_AUTO_TEST_CASE(a_controller_the_host_lacks_is_refused_by_name)
{
    auto host = detect_from(unified_mountinfo, "cpu memory pids\n");
    Resources r;
    r.block_io = BlockIo{};
    r.block_io->weight = 100;
    auto writes = internal::plan(r, *host);
    BOOST_TEST_REQUIRE(!writes.has_value());
    BOOST_TEST(mentions(writes.error(), "linux.resources.blockIO: controller io is not available"));
}

BOOST_AUTO_TEST_CASE(a_bad_device_rule_or_page_size_is_refused)
{
    Resources r;
    r.devices.push_back({true, 'x', std::nullopt, std::nullopt, "rwm"});
    BOOST_TEST(!internal::plan(r, hybrid_host()).has_value());
    BOOST_TEST(!internal::device_program(r.devices).has_value());
    Resources huge;
    huge.hugepage_limits.push_back({"../2MB", 1});
    BOOST_TEST(!internal::plan(huge, hybrid_host()).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(device_bpf)

BOOST_AUTO_TEST_CASE(a_deny_all_prefix_is_the_default_and_ends_the_program)
{
    std::vector<DeviceRule> rules = {{false, 'a', std::nullopt, std::nullopt, "rwm"},
                                     {true, 'c', 1, 3, "rwm"}};
    auto program = internal::device_program(rules);
    BOOST_TEST_REQUIRE(program.has_value());
    // 6 prologue + (type, major, minor, mov, exit) for c 1:3 + (mov, exit) for "deny all".
    BOOST_TEST(program->size() == 13u);
    BOOST_TEST(program->back().code == (BPF_JMP | BPF_EXIT));
    BOOST_TEST((*program)[6].off == 4); // "not a char device" skips the rest of the rule
}

BOOST_AUTO_TEST_CASE(without_a_catch_all_the_program_denies_by_default)
{
    auto program = internal::device_program({{true, 'c', 1, 5, "r"}});
    BOOST_TEST_REQUIRE(program.has_value());
    BOOST_TEST(program->size() == 6u + 8u + 2u);
    BOOST_TEST((*program)[program->size() - 2].imm == 0);
}

BOOST_AUTO_TEST_SUITE_END()
