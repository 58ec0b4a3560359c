// Root tests of cgroups/ on a pure cgroup v2 host: the VM tier runs them in a qemu guest
// (tests/vm/run-in-vm.sh); on a hybrid or v1 host every case is skipped with a message saying so.
// Each case makes its own /berth-test-<pid>/<case> cgroup, moves forked workers into it and
// proves the kernel enforces the limits: OOM kill, pids.max, cpu.max, the device eBPF program,
// cgroup.freeze, cgroup.kill, statistics.
#define BOOST_TEST_MODULE cgroups_v2
#include <boost/test/unit_test.hpp>
#include "base/files.hpp"
#include "tests/root/cgroups_support.hpp"

namespace utf = boost::unit_test;
using namespace berth;
using namespace berth::cgroups;
using namespace std::chrono_literals;

namespace {

boost::test_tools::assertion_result unified_root(utf::test_unit_id)
{
    boost::test_tools::assertion_result result(false);
    if (!test::is_root()) {
        result.message() << "needs root";
        return result;
    }
    auto host = detect();
    if (!host || host->mode != Mode::Unified) {
        result.message() << "needs a pure cgroup v2 host (this one is "
                         << (host ? mode_name(host->mode) : "without cgroups")
                         << "); run it in the VM tier: tests/vm/run-in-vm.sh <this binary>";
        return result;
    }
    return true;
}

std::string dir_of(const test::TestCgroup& cg)
{
    return detect()->unified_mount + cg.path;
}

std::string read_trimmed(const std::string& path)
{
    auto text = read_file(path);
    return text ? std::string(trim(*text)) : "<" + text.error().message() + ">";
}

} // namespace

BOOST_AUTO_TEST_SUITE(v2, *utf::label("root") * utf::label("vm") * utf::precondition(unified_root))

BOOST_AUTO_TEST_CASE(create_enables_the_controllers_in_each_parent)
{
    test::TestCgroup cg("create");
    BOOST_TEST((cg->mode() == Mode::Unified));
    const auto parent = detect()->unified_mount + "/berth-test-" + std::to_string(::getpid());
    const auto enabled = read_trimmed(parent + "/cgroup.subtree_control");
    for (const char* c : {"cpu", "memory", "pids"})
        BOOST_TEST(enabled.find(c) != std::string::npos, c << " in '" << enabled << "'");
    BOOST_TEST(path_exists(dir_of(cg) + "/memory.max"));
    BOOST_TEST(path_exists(dir_of(cg) + "/pids.max"));
    BOOST_TEST_REQUIRE(cg->destroy().has_value());
    BOOST_TEST(!path_exists(dir_of(cg)));
}

BOOST_AUTO_TEST_CASE(memory_max_oom_kills_and_memory_events_count_it)
{
    test::TestCgroup cg("oom");
    Resources r;
    r.memory = Memory{};
    r.memory->limit = 32 << 20;
    r.memory->swap = 32 << 20; // memory.swap.max = 0
    auto applied = cg->apply(r);
    BOOST_TEST_REQUIRE(applied.has_value(), test::why(applied));
    BOOST_TEST(read_trimmed(dir_of(cg) + "/memory.max") == "33554432");
    if (path_exists(dir_of(cg) + "/memory.swap.max"))
        BOOST_TEST(read_trimmed(dir_of(cg) + "/memory.swap.max") == "0");
    test::Worker worker([] { return test::touch_memory(64); });
    BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
    BOOST_TEST_REQUIRE(worker.start());
    BOOST_TEST(test::killed_by(worker.wait(120s), SIGKILL));
    auto kills = cg->oom_kill_count();
    BOOST_TEST_REQUIRE(kills.has_value());
    BOOST_TEST(*kills >= 1u);
    auto stats = cg->stats();
    BOOST_TEST_REQUIRE(stats.has_value());
    BOOST_TEST(stats->oom_kill_events >= 1u);
    BOOST_TEST(stats->oom_events >= 1u);
    BOOST_TEST(stats->memory_limit == 32u << 20);
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
    BOOST_TEST(test::exited_with(worker.wait(120s), 0));
    BOOST_TEST(result.value->forked == 7);
    BOOST_TEST(result.value->error == EAGAIN);
    auto stats = cg->stats();
    BOOST_TEST(stats->pids_limit == 8u);
    BOOST_TEST(stats->pids_current == 7u); // the paused children
}

BOOST_AUTO_TEST_CASE(cpu_max_of_20_percent_holds_a_busy_loop_to_about_0_2_s)
{
    test::TestCgroup cg("cpu");
    Resources r;
    r.cpu = Cpu{};
    r.cpu->quota = 20000;
    r.cpu->period = 100000;
    r.cpu->shares = 1024;
    BOOST_TEST_REQUIRE(cg->apply(r).has_value());
    BOOST_TEST(read_trimmed(dir_of(cg) + "/cpu.max") == "20000 100000");
    BOOST_TEST(read_trimmed(dir_of(cg) + "/cpu.weight") == "39");
    test::Worker worker([] { return test::busy_loop(1000ms); });
    BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
    BOOST_TEST_REQUIRE(worker.start());
    BOOST_TEST(test::exited_with(worker.wait(120s), 0));
    auto stats = cg->stats();
    BOOST_TEST_REQUIRE(stats.has_value());
    BOOST_TEST_MESSAGE("cpu usage of a 1 s busy loop under cpu.max 20000 100000: "
                       << stats->cpu_usage_usec << " us");
    BOOST_TEST(stats->cpu_usage_usec >= 100000u);
    BOOST_TEST(stats->cpu_usage_usec <= 350000u);
    BOOST_TEST(stats->cpu_throttled_periods > 0u);
}

BOOST_AUTO_TEST_CASE(device_ebpf_program_refuses_dev_zero_and_is_replaced_on_reapply)
{
    test::TestCgroup cg("devices");
    Resources r;
    r.devices.push_back({false, 'a', std::nullopt, std::nullopt, "rwm"});
    r.devices.push_back({true, 'c', 1, 3, "rwm"});
    auto applied = cg->apply(r);
    BOOST_TEST_REQUIRE(applied.has_value(), test::why(applied));
    {
        test::Worker worker([] { return test::open_devices(); });
        BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
        BOOST_TEST_REQUIRE(worker.start());
        BOOST_TEST(test::exited_with(worker.wait(120s), 0));
    }
    // A second apply replaces the program instead of stacking on it: /dev/zero opens now.
    r.devices.push_back({true, 'c', 1, 5, "r"});
    applied = cg->apply(r);
    BOOST_TEST_REQUIRE(applied.has_value(), test::why(applied));
    test::Worker worker([] { return test::open_devices(); });
    BOOST_TEST_REQUIRE(cg->add(worker.pid()).has_value());
    BOOST_TEST_REQUIRE(worker.start());
    BOOST_TEST(test::exited_with(worker.wait(120s), 11)); // 11: /dev/zero opened
}

BOOST_AUTO_TEST_CASE(cgroup_freeze_stops_progress_and_thaw_resumes_it)
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
    BOOST_TEST(read_trimmed(dir_of(cg) + "/cgroup.freeze") == "1");
    const auto frozen_at = counter.value->load();
    std::this_thread::sleep_for(500ms);
    BOOST_TEST(counter.value->load() == frozen_at);
    BOOST_TEST_REQUIRE(cg->thaw().has_value());
    for (int i = 0; i < 200 && counter.value->load() == frozen_at; ++i)
        std::this_thread::sleep_for(10ms);
    BOOST_TEST(counter.value->load() > frozen_at);
}

BOOST_AUTO_TEST_CASE(cgroup_kill_ends_every_process_in_the_cgroup)
{
    test::TestCgroup cg("kill");
    BOOST_TEST_REQUIRE(path_exists(dir_of(cg) + "/cgroup.kill"));
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
    BOOST_TEST(test::killed_by(worker.wait(120s), SIGKILL));
    for (int i = 0; i < 500 && !cg->pids()->empty(); ++i)
        std::this_thread::sleep_for(10ms);
    BOOST_TEST(cg->pids()->empty());
}

BOOST_AUTO_TEST_CASE(stats_report_memory_and_pids_of_a_worker)
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
    BOOST_TEST(stats->memory_working_set >= (48u << 20));
    BOOST_TEST(stats->pids_current == 1u);
    BOOST_TEST(stats->memory_limit == 0u); // "max"
    BOOST_TEST(stats->cpu_usage_usec > 0u);
}

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
    BOOST_TEST(read_trimmed(dir_of(task) + "/cgroup.subtree_control").find("memory") !=
               std::string::npos);
    limits.memory->limit = 64 << 20;
    BOOST_TEST_REQUIRE(web->apply(limits).has_value());
    test::Worker worker([] { return ::pause(), 0; });
    BOOST_TEST_REQUIRE(web->add(worker.pid()).has_value());
    BOOST_TEST(task->pids()->size() == 1u); // listed from the task down
    auto destroyed = task->destroy();
    BOOST_TEST_REQUIRE(destroyed.has_value(), test::why(destroyed));
    BOOST_TEST(test::killed_by(worker.wait(120s), SIGKILL));
    BOOST_TEST(!path_exists(dir_of(task)));
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
    BOOST_TEST(message.find("cpu.max: write '500 100000' to '" + dir_of(cg) +
                            "/cpu.max': Invalid argument") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unified_keys_are_written_and_unknown_files_refused)
{
    test::TestCgroup cg("unified");
    Resources r;
    r.unified["memory.high"] = "50000000";
    auto applied = cg->apply(r);
    BOOST_TEST_REQUIRE(applied.has_value(), test::why(applied));
    BOOST_TEST(read_trimmed(dir_of(cg) + "/memory.high") == "49999872"); // page-rounded
    Resources bad;
    bad.unified["memory.no_such_file"] = "1";
    applied = cg->apply(bad);
    BOOST_TEST_REQUIRE(!applied.has_value());
    BOOST_TEST(applied.error().message().find("memory.no_such_file: no such file") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_failed_create_leaves_nothing_behind)
{
    test::TestCgroup parent("full");
    BOOST_TEST_REQUIRE(write_file(dir_of(parent) + "/cgroup.max.depth", "1").has_value());
    auto child = Cgroup::create(parent.path + "/a/b");
    BOOST_TEST_REQUIRE(!child.has_value());
    BOOST_TEST(!path_exists(dir_of(parent) + "/a"));
}

BOOST_AUTO_TEST_SUITE_END()
