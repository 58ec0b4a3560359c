// Root tests of cgroups/, one suite for both kinds of host it supports: this CI machine (hybrid:
// v1 controllers plus a v2 mount with hugetlb) in the root tier, and a pure cgroup v2 kernel in
// the VM tier (tests/vm/run-in-vm.sh runs this same binary in a qemu guest). Each case makes its
// own /berth-test-<pid>/<case> cgroup, moves forked workers into it and proves the kernel
// enforces the limits (OOM kill, pids, cpu quota, devices, freeze, kill, statistics), not just
// that files were written. The `enforcement` suite runs on both modes and checks each mode's
// files where they differ; `hybrid` and `v2` hold what exists only on one of them, and are
// reported skipped on the other.
#define BOOST_TEST_MODULE cgroups
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <algorithm>
#include <stdexcept>
#include "base/files.hpp"
#include "base/strings.hpp"
#include "tests/root/cgroups_support.hpp"

namespace utf = boost::unit_test;
using namespace berth;
using namespace berth::cgroups;
using namespace std::chrono_literals;

namespace {

// Root and a host whose mode is one of `modes`; the message says what is missing.
boost::test_tools::assertion_result root_on(std::initializer_list<Mode> modes)
{
    boost::test_tools::assertion_result result(false);
    if (!test::is_root()) {
        result.message() << "needs root";
        return result;
    }
    auto host = detect();
    for (const Mode mode : modes)
        if (host && host->mode == mode)
            return true;
    result.message() << "not for this host (" << (host ? mode_name(host->mode) : "no cgroups")
                     << ")";
    if (modes.size() == 1 && *modes.begin() == Mode::Unified)
        result.message() << ": needs a pure cgroup v2 host; run it in the VM tier: "
                            "tests/vm/run-in-vm.sh <this binary>";
    return result;
}

boost::test_tools::assertion_result hybrid_or_v2(utf::test_unit_id)
{
    return root_on({Mode::Hybrid, Mode::Unified});
}
boost::test_tools::assertion_result hybrid_only(utf::test_unit_id)
{
    return root_on({Mode::Hybrid});
}
boost::test_tools::assertion_result v2_only(utf::test_unit_id)
{
    return root_on({Mode::Unified});
}

bool on_v2()
{
    return detect()->mode == Mode::Unified;
}

std::string v1_dir(const std::string& controller, const std::string& path)
{
    return detect()->v1_mounts.at(controller) + path;
}

std::string v2_dir(const std::string& path)
{
    return detect()->unified_mount + path;
}

std::string read_trimmed(const std::string& path)
{
    auto text = read_file(path);
    return text ? std::string(trim(*text)) : "<" + text.error().message() + ">";
}

// The guest runs under software emulation: waits there are generous.
std::chrono::milliseconds patience()
{
    return on_v2() ? std::chrono::milliseconds(120s) : std::chrono::milliseconds(30s);
}

} // namespace

BOOST_AUTO_TEST_SUITE(enforcement, *utf::label("root") * utf::precondition(hybrid_or_v2))

BOOST_AUTO_TEST_CASE(create_makes_the_cgroup_in_every_hierarchy_and_destroy_removes_it)
{
    test::TestCgroup cg("create");
    BOOST_TEST((cg->mode() == detect()->mode));
    if (on_v2()) {
        const auto parent = v2_dir("/berth-test-" + std::to_string(::getpid()));
        const auto enabled = read_trimmed(parent + "/cgroup.subtree_control");
        for (const char* c : {"cpu", "memory", "pids"})
            BOOST_TEST(enabled.find(c) != std::string::npos, c << " in '" << enabled << "'");
        BOOST_TEST(path_exists(v2_dir(cg.path) + "/memory.max"));
        BOOST_TEST(path_exists(v2_dir(cg.path) + "/pids.max"));
    } else {
        for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "pids"})
            BOOST_TEST(path_exists(v1_dir(c, cg.path)), c);
        BOOST_TEST(path_exists(v2_dir(cg.path)));
        BOOST_TEST(path_exists("/sys/fs/cgroup/systemd" + cg.path)); // name=systemd too, as runc
        // cpuset was seeded from the parent, or no task could join.
        auto cpus = read_file(v1_dir("cpuset", cg.path) + "/cpuset.cpus");
        BOOST_TEST_REQUIRE(cpus.has_value());
        BOOST_TEST(!trim(*cpus).empty());
    }
    BOOST_TEST_REQUIRE(cg->destroy().has_value());
    BOOST_TEST(!path_exists(v2_dir(cg.path)));
    if (!on_v2()) {
        BOOST_TEST(!path_exists(v1_dir("memory", cg.path)));
        BOOST_TEST(!path_exists("/sys/fs/cgroup/systemd" + cg.path));
    }
}

BOOST_AUTO_TEST_CASE(an_existing_cgroup_is_adopted_and_destroy_neither_kills_nor_removes_it)
{
    test::TestCgroup existing("adopted");
    const pid_t sleeper = ::fork();
    if (sleeper == 0) {
        ::execl("/bin/sleep", "sleep", "1000", nullptr);
        ::_exit(127);
    }
    BOOST_TEST_REQUIRE(existing->add(sleeper).has_value());
    auto adopted = Cgroup::create(existing.path + "/../adopted");
    BOOST_TEST(!adopted.has_value()); // the path rule: no way out of the tree
    adopted = Cgroup::create(existing.path);
    BOOST_TEST_REQUIRE(adopted.has_value());
    BOOST_TEST(!adopted->ownership().created);
    BOOST_TEST(adopted->ownership().made.empty());
    BOOST_TEST_REQUIRE(adopted->destroy().has_value());
    BOOST_TEST(::waitpid(sleeper, nullptr, WNOHANG) == 0); // still running
    BOOST_TEST(path_exists(on_v2() ? v2_dir(existing.path) : v1_dir("memory", existing.path)));
    ::kill(sleeper, SIGKILL);
    ::waitpid(sleeper, nullptr, 0);
}

// Issue 17: how berthd's restore finds the task cgroups below its cgroup root that no task owns
// any more. A child a crash left in one hierarchy only is listed too (on hybrid hosts: the
// unified one, where no process is listed from).
BOOST_AUTO_TEST_CASE(child_cgroups_lists_each_child_once_also_one_in_a_single_hierarchy)
{
    test::TestCgroup parent("listed");
    auto a = Cgroup::create(parent.path + "/a");
    auto deep = Cgroup::create(parent.path + "/b/deep");
    BOOST_TEST_REQUIRE(a.has_value(), test::why(a));
    BOOST_TEST_REQUIRE(deep.has_value(), test::why(deep));
    const auto lone = v2_dir(parent.path + "/lone");
    BOOST_TEST_REQUIRE(::mkdir(lone.c_str(), 0755) == 0, lone);

    auto children = child_cgroups(parent.path);
    BOOST_TEST_REQUIRE(children.has_value(), test::why(children));
    BOOST_TEST((*children == std::vector<std::string>{"a", "b", "lone"}));
    auto none = child_cgroups(parent.path + "/a");
    BOOST_TEST_REQUIRE(none.has_value(), test::why(none));
    BOOST_TEST(none->empty());
    auto nowhere = child_cgroups(parent.path + "/missing"); // exists in no hierarchy
    BOOST_TEST_REQUIRE(nowhere.has_value(), test::why(nowhere));
    BOOST_TEST(nowhere->empty());
    auto top = child_cgroups("/");
    BOOST_TEST_REQUIRE(top.has_value(), test::why(top));
    const auto mine = "berth-test-" + std::to_string(::getpid());
    BOOST_TEST((std::find(top->begin(), top->end(), mine) != top->end()));
    auto bad = child_cgroups("relative/path");
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().code == EINVAL);

    BOOST_TEST(::rmdir(lone.c_str()) == 0);
    BOOST_TEST(deep->destroy().has_value());
    BOOST_TEST(a->destroy().has_value());
}

BOOST_AUTO_TEST_CASE(memory_limit_oom_kills_a_worker_touching_twice_the_limit)
{
    test::TestCgroup cg("oom");
    Resources r;
    r.memory = Memory{};
    r.memory->limit = 32 << 20;
    r.memory->swap = 32 << 20; // memory+swap = memory (v2: memory.swap.max = 0): no escape
    auto applied = cg->apply(r);
    BOOST_TEST_REQUIRE(applied.has_value(), test::why(applied));
    if (on_v2()) {
        BOOST_TEST(read_trimmed(v2_dir(cg.path) + "/memory.max") == "33554432");
        if (path_exists(v2_dir(cg.path) + "/memory.swap.max"))
            BOOST_TEST(read_trimmed(v2_dir(cg.path) + "/memory.swap.max") == "0");
    }
    test::Worker worker([] { return test::touch_memory(64); });
    BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
    BOOST_TEST_REQUIRE(worker.start());
    BOOST_TEST(test::killed_by(worker.wait(patience()), SIGKILL));
    auto kills = cg->oom_kill_count();
    BOOST_TEST_REQUIRE(kills.has_value());
    BOOST_TEST(*kills >= 1u);
    auto stats = cg->stats();
    BOOST_TEST_REQUIRE(stats.has_value());
    BOOST_TEST(stats->oom_kill_events >= 1u);
    if (on_v2()) {
        BOOST_TEST(stats->oom_events >= 1u);
        BOOST_TEST(stats->memory_limit == 32u << 20);
    }
}

BOOST_AUTO_TEST_CASE(pids_max_8_stops_fork_with_eagain_after_7_children)
{
    test::TestCgroup cg("pids");
    Resources r;
    r.pids = Pids{8};
    BOOST_TEST_REQUIRE(cg->apply(r).has_value());
    test::Shared<test::ForkResult> result;
    test::Worker worker([&] { return test::fork_until_failure(result.value); });
    BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
    BOOST_TEST_REQUIRE(worker.start());
    BOOST_TEST(test::exited_with(worker.wait(patience()), 0));
    BOOST_TEST(result.value->forked == 7); // the worker itself is the 8th
    BOOST_TEST(result.value->error == EAGAIN);
    auto stats = cg->stats();
    BOOST_TEST_REQUIRE(stats.has_value());
    BOOST_TEST(stats->pids_limit == 8u);
    if (on_v2())
        BOOST_TEST(stats->pids_current == 7u); // the paused children
}

BOOST_AUTO_TEST_CASE(cpu_quota_of_20_percent_holds_a_busy_loop_to_about_0_2_s)
{
    test::TestCgroup cg("cpu");
    Resources r;
    r.cpu = Cpu{};
    r.cpu->quota = 20000;
    r.cpu->period = 100000;
    if (on_v2())
        r.cpu->shares = 1024; // converted to cpu.weight
    BOOST_TEST_REQUIRE(cg->apply(r).has_value());
    if (on_v2()) {
        BOOST_TEST(read_trimmed(v2_dir(cg.path) + "/cpu.max") == "20000 100000");
        BOOST_TEST(read_trimmed(v2_dir(cg.path) + "/cpu.weight") == "39");
    }
    test::Worker worker([] { return test::busy_loop(1000ms); });
    BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
    BOOST_TEST_REQUIRE(worker.start());
    BOOST_TEST(test::exited_with(worker.wait(patience()), 0));
    auto stats = cg->stats();
    BOOST_TEST_REQUIRE(stats.has_value());
    BOOST_TEST_MESSAGE("cpu usage of a 1 s busy loop at a 20% quota: " << stats->cpu_usage_usec
                                                                       << " us");
    BOOST_TEST(stats->cpu_usage_usec >= 100000u);
    BOOST_TEST(stats->cpu_usage_usec <= 350000u);
    BOOST_TEST(stats->cpu_throttled_periods > 0u);
}

BOOST_AUTO_TEST_CASE(devices_deny_all_but_dev_null_refuses_dev_zero)
{
    test::TestCgroup cg("devices");
    Resources r;
    r.devices.push_back({false, 'a', std::nullopt, std::nullopt, "rwm"});
    r.devices.push_back({true, 'c', 1, 3, "rwm"});
    auto applied = cg->apply(r);
    BOOST_TEST_REQUIRE(applied.has_value(), test::why(applied));
    if (!on_v2())
        BOOST_TEST(read_trimmed(v1_dir("devices", cg.path) + "/devices.list") == "c 1:3 rwm");
    {
        test::Worker worker([] { return test::open_devices(); });
        BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
        BOOST_TEST_REQUIRE(worker.start());
        BOOST_TEST(test::exited_with(worker.wait(patience()), 0));
    }
    if (!on_v2())
        return;
    // v2: a second apply replaces the eBPF program instead of stacking on it: /dev/zero opens.
    r.devices.push_back({true, 'c', 1, 5, "r"});
    applied = cg->apply(r);
    BOOST_TEST_REQUIRE(applied.has_value(), test::why(applied));
    test::Worker worker([] { return test::open_devices(); });
    BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
    BOOST_TEST_REQUIRE(worker.start());
    BOOST_TEST(test::exited_with(worker.wait(patience()), 11)); // 11: /dev/zero opened
}

BOOST_AUTO_TEST_CASE(freeze_stops_progress_and_thaw_resumes_it)
{
    test::TestCgroup cg("freeze");
    test::Shared<std::atomic<unsigned long>> counter;
    test::Worker worker([&] { return test::count_forever(counter.value); });
    BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
    BOOST_TEST_REQUIRE(worker.start());
    while (counter.value->load() == 0)
        std::this_thread::sleep_for(1ms);
    auto frozen = cg->freeze();
    BOOST_TEST_REQUIRE(frozen.has_value(), test::why(frozen));
    BOOST_TEST(*cg->frozen());
    if (on_v2())
        BOOST_TEST(read_trimmed(v2_dir(cg.path) + "/cgroup.freeze") == "1");
    const auto frozen_at = counter.value->load();
    std::this_thread::sleep_for(on_v2() ? 500ms : 300ms);
    BOOST_TEST(counter.value->load() == frozen_at);
    BOOST_TEST_REQUIRE(cg->thaw().has_value());
    for (int i = 0; i < 200 && counter.value->load() == frozen_at; ++i)
        std::this_thread::sleep_for(10ms);
    BOOST_TEST(counter.value->load() > frozen_at);
    BOOST_TEST(!*cg->frozen());
}

BOOST_AUTO_TEST_CASE(kill_ends_every_process_in_the_cgroup)
{
    test::TestCgroup cg("kill");
    if (on_v2())
        BOOST_TEST_REQUIRE(path_exists(v2_dir(cg.path) + "/cgroup.kill"));
    test::Shared<test::ForkResult> result;
    test::Worker worker([&] {
        for (int i = 0; i < 3; ++i)
            if (::fork() == 0)
                ::pause();
        result.value->forked = 3;
        ::pause();
        return 0;
    });
    BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
    BOOST_TEST_REQUIRE(worker.start());
    while (result.value->forked != 3)
        std::this_thread::sleep_for(1ms);
    BOOST_TEST(cg->pids()->size() == 4u);
    BOOST_TEST_REQUIRE(cg->kill().has_value());
    BOOST_TEST(test::killed_by(worker.wait(patience()), SIGKILL));
    for (int i = 0; i < 500 && !cg->pids()->empty(); ++i)
        std::this_thread::sleep_for(10ms);
    BOOST_TEST(cg->pids()->empty());
}

BOOST_AUTO_TEST_CASE(stats_report_the_memory_and_pids_of_a_worker)
{
    test::TestCgroup cg("stats");
    test::Shared<std::atomic<int>> ready;
    test::Worker worker([&] {
        test::touch_memory(48);
        ready.value->store(1);
        ::pause();
        return 0;
    });
    BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
    BOOST_TEST_REQUIRE(worker.start());
    while (ready.value->load() == 0)
        std::this_thread::sleep_for(1ms);
    auto stats = cg->stats();
    BOOST_TEST_REQUIRE(stats.has_value(), test::why(stats));
    BOOST_TEST(stats->memory_usage >= (48u << 20));
    BOOST_TEST(stats->pids_current == 1u);
    BOOST_TEST(stats->memory_limit == 0u); // unlimited ("max")
    if (on_v2()) {
        BOOST_TEST(stats->memory_working_set >= (48u << 20));
        BOOST_TEST(stats->cpu_usage_usec > 0u);
    } else {
        BOOST_TEST(stats->memory_max_usage >= (48u << 20));
    }
}

BOOST_AUTO_TEST_CASE(a_value_the_kernel_rejects_names_the_file_and_value)
{
    test::TestCgroup cg("reject");
    Resources r;
    r.cpu = Cpu{};
    r.cpu->quota = 500; // below the kernel's 1 ms minimum
    auto applied = cg->apply(r);
    BOOST_TEST_REQUIRE(!applied.has_value());
    const auto message = applied.error().message();
    BOOST_TEST_MESSAGE(message);
    const auto expected =
        on_v2()
            ? "cpu.max: write '500 100000' to '" + v2_dir(cg.path) + "/cpu.max'"
            : "cpu.cfs_quota_us: write '500' to '" + v1_dir("cpu", cg.path) + "/cpu.cfs_quota_us'";
    BOOST_TEST(message.find(expected + ": Invalid argument") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_failed_create_leaves_nothing_behind)
{
    test::TestCgroup parent("full");
    if (on_v2()) {
        BOOST_TEST_REQUIRE(write_file(v2_dir(parent.path) + "/cgroup.max.depth", "1").has_value());
        auto child = Cgroup::create(parent.path + "/a/b");
        BOOST_TEST_REQUIRE(!child.has_value());
        BOOST_TEST(!path_exists(v2_dir(parent.path) + "/a"));
        return;
    }
    // The unified hierarchy is made last: forbid children there, after the v1 dirs succeeded.
    BOOST_TEST_REQUIRE(
        write_file(v2_dir(parent.path) + "/cgroup.max.descendants", "0").has_value());
    auto child = Cgroup::create(parent.path + "/child");
    BOOST_TEST_REQUIRE(!child.has_value());
    BOOST_TEST(child.error().message().find("mkdir") != std::string::npos);
    BOOST_TEST(!path_exists(v1_dir("memory", parent.path + "/child")));
    BOOST_TEST(!path_exists(v1_dir("cpu", parent.path + "/child")));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- Only on a hybrid host: v1 files, hugetlb on the v2 mount, refusals of v2-only keys. ----
BOOST_AUTO_TEST_SUITE(hybrid, *utf::label("root") * utf::precondition(hybrid_only))

BOOST_AUTO_TEST_CASE(hugetlb_lives_on_v2_here_and_is_applied_there)
{
    test::TestCgroup cg("hugetlb");
    Resources r;
    r.hugepage_limits.push_back({"2MB", 4 << 20});
    auto applied = cg->apply(r);
    BOOST_TEST_REQUIRE(applied.has_value(), test::why(applied));
    auto value = read_file(detect()->unified_mount + cg.path + "/hugetlb.2MB.max");
    BOOST_TEST_REQUIRE(value.has_value());
    BOOST_TEST(trim(*value) == "4194304");
}

BOOST_AUTO_TEST_CASE(v1_memory_settings_and_raising_limit_and_swap_together)
{
    test::TestCgroup cg("memory");
    Resources r;
    r.memory = Memory{};
    r.memory->limit = 32 << 20;
    r.memory->swap = 32 << 20;
    r.memory->reservation = 16 << 20;
    r.memory->swappiness = 10;
    BOOST_TEST_REQUIRE(cg->apply(r).has_value());
    // Raising the limit above the old memory+swap needs memsw first; apply orders it.
    r.memory->limit = 64 << 20;
    r.memory->swap = 64 << 20;
    auto applied = cg->apply(r);
    BOOST_TEST_REQUIRE(applied.has_value(), test::why(applied));
    const auto dir = v1_dir("memory", cg.path);
    BOOST_TEST(trim(*read_file(dir + "/memory.limit_in_bytes")) == "67108864");
    BOOST_TEST(trim(*read_file(dir + "/memory.memsw.limit_in_bytes")) == "67108864");
    BOOST_TEST(trim(*read_file(dir + "/memory.soft_limit_in_bytes")) == "16777216");
    BOOST_TEST(trim(*read_file(dir + "/memory.swappiness")) == "10");
}

BOOST_AUTO_TEST_CASE(open_recovers_an_existing_cgroup_and_missing_is_enoent)
{
    test::TestCgroup cg("recover");
    test::Worker worker([] { return ::pause(), 0; });
    BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
    auto opened = Cgroup::open(cg.path);
    BOOST_TEST_REQUIRE(opened.has_value());
    BOOST_TEST(opened->pids()->size() == 1u);
    auto missing = Cgroup::open(cg.path + "/nothing-here");
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().code == ENOENT);
}

BOOST_AUTO_TEST_CASE(a_unified_key_for_a_v1_controller_is_refused)
{
    test::TestCgroup cg("unified");
    Resources r;
    r.unified["memory.high"] = "1000000";
    auto applied = cg->apply(r);
    BOOST_TEST_REQUIRE(!applied.has_value());
    BOOST_TEST(applied.error().message().find("cgroup v1 hierarchy") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hybrid_lifecycle, *utf::label("root") * utf::precondition(hybrid_only))

BOOST_AUTO_TEST_CASE(destroy_of_a_frozen_cgroup_with_workers_kills_and_removes_it)
{
    test::TestCgroup cg("frozen-destroy");
    test::Worker worker([] { return ::pause(), 0; });
    BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
    BOOST_TEST_REQUIRE(worker.start());
    BOOST_TEST_REQUIRE(cg->freeze().has_value());
    const auto started = std::chrono::steady_clock::now();
    auto destroyed = cg->destroy();
    BOOST_TEST_REQUIRE(destroyed.has_value(), test::why(destroyed));
    // Well under the 10 s a kill blocked by the freezer would wait, with room for a busy
    // machine and a sanitizer.
    BOOST_TEST((std::chrono::steady_clock::now() - started < 5s));
    BOOST_TEST(test::killed_by(worker.wait(), SIGKILL));
    BOOST_TEST(!path_exists(v1_dir("freezer", cg.path)));
}

BOOST_AUTO_TEST_CASE(create_with_resources_the_kernel_rejects_removes_what_it_made)
{
    const std::string path = "/berth-test-" + std::to_string(::getpid()) + "-rejected/leaf";
    Resources r;
    r.cpu = Cpu{};
    r.cpu->quota = 500;
    auto cg = Cgroup::create(path, r);
    BOOST_TEST_REQUIRE(!cg.has_value());
    BOOST_TEST(cg.error().message().find("cpu.cfs_quota_us") != std::string::npos);
    BOOST_TEST(!path_exists(v1_dir("memory", path)));
    BOOST_TEST(
        !path_exists(v1_dir("memory", "/berth-test-" + std::to_string(::getpid()) + "-rejected")));
    BOOST_TEST(!path_exists(detect()->unified_mount + path));
}

BOOST_AUTO_TEST_CASE(a_path_that_leaves_the_tree_is_refused)
{
    for (const char* path : {"relative", "/a/../../etc", "/", "/a/./b"}) {
        auto cg = Cgroup::create(path);
        BOOST_TEST_REQUIRE(!cg.has_value());
        BOOST_TEST(cg.error().code == EINVAL, path);
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- Only on pure cgroup v2: nested task cgroups, unified keys. ----
BOOST_AUTO_TEST_SUITE(v2, *utf::label("root") * utf::label("vm") * utf::precondition(v2_only))

BOOST_AUTO_TEST_CASE(task_cgroup_with_one_child_per_container_is_destroyed_as_a_tree)
{
    test::TestCgroup task("task");
    Resources limits;
    limits.memory = Memory{};
    limits.memory->limit = 256 << 20;
    BOOST_TEST_REQUIRE(task->apply(limits).has_value());
    auto web = Cgroup::create(task.path + "/web");
    auto db = Cgroup::create(task.path + "/db");
    BOOST_TEST_REQUIRE(web.has_value());
    BOOST_TEST_REQUIRE(db.has_value());
    BOOST_TEST(read_trimmed(v2_dir(task.path) + "/cgroup.subtree_control").find("memory") !=
               std::string::npos);
    limits.memory->limit = 64 << 20;
    BOOST_TEST_REQUIRE(web->apply(limits).has_value());
    test::Worker worker([] { return ::pause(), 0; });
    BOOST_TEST_REQUIRE(web->add(worker.pid()).has_value());
    BOOST_TEST(task->pids()->size() == 1u); // listed from the task down
    auto destroyed = task->destroy();
    BOOST_TEST_REQUIRE(destroyed.has_value(), test::why(destroyed));
    BOOST_TEST(test::killed_by(worker.wait(120s), SIGKILL));
    BOOST_TEST(!path_exists(v2_dir(task.path)));
}

BOOST_AUTO_TEST_CASE(unified_keys_are_written_and_unknown_files_refused)
{
    test::TestCgroup cg("unified");
    Resources r;
    r.unified["memory.high"] = "50000000";
    auto applied = cg->apply(r);
    BOOST_TEST_REQUIRE(applied.has_value(), test::why(applied));
    BOOST_TEST(read_trimmed(v2_dir(cg.path) + "/memory.high") == "49999872"); // page-rounded
    Resources bad;
    bad.unified["memory.no_such_file"] = "1";
    applied = cg->apply(bad);
    BOOST_TEST_REQUIRE(!applied.has_value());
    BOOST_TEST(applied.error().message().find("memory.no_such_file: no such file") !=
               std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
