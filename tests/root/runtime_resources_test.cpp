// tests/root/runtime_resources_test.cpp — the runtime applies linux.resources through cgroups/,
// proven by enforcement: the runtime library's API (no CLI) runs busybox bundles whose processes
// run into each limit, and the kernel's own counters show it happened. Runs as root on this
// hybrid host (suite root, cgroup v1 controllers) and unchanged in the VM tier (tests/vm, pure
// cgroup v2), so both drivers of the runtime are covered. Each bundle is a mkdtemp directory
// with cgroupsPath "/berth-test-<pid>-<n>"; every container is force-removed and the test cgroup
// destroyed even when a check fails, and each case verifies that nothing is left behind.
#define BOOST_TEST_MODULE runtime_resources
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <string>
#include <thread>
#include <vector>
#include "base/fd.hpp"
#include "cgroups/cgroups.hpp"
#include "tests/root/runtime_fixture.hpp"

using namespace berth::test;

namespace {

// Waits for our child pid (the container's init is our child: CLONE_PARENT) and returns its
// status as a shell would (128+signal when killed); -1 if it did not exit in time.
int wait_exit(pid_t pid, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        if (r < 0)
            return -1;
        std::this_thread::sleep_for(10ms);
    }
    return -1;
}

// One bundle and a state root; every container it made is force-removed at the end, and then
// the state root must be empty and the test cgroup gone (in every hierarchy).
struct Fixture : RuntimeFixture {
    Fixture() : RuntimeFixture("berth-resources-state")
    {
        bundle.config["linux"]["resources"] = nlohmann::json::object();
    }
    nlohmann::json& resources() { return bundle.config["linux"]["resources"]; }
    // create + start of `sh -c script`; returns the init's pid (0 if that failed: test fails).
    pid_t start(const std::string& hint, const std::string& script)
    {
        bundle.set_args({"sh", "-c", script});
        bundle.write();
        const auto id = new_id(hint);
        auto co = create_options(id);
        berth::Fd null(co.stdin_fd); // closed when start returns
        auto created = rt::create(options, co);
        BOOST_TEST(created.has_value(), "create: " << why(created));
        if (!created)
            return 0;
        auto started = rt::start(options, id);
        BOOST_TEST(started.has_value(), "start: " << why(started));
        return started ? created->pid : 0;
    }
    const std::string& id() const { return ids.back(); }
    // The container's cgroup, opened the way the runtime recorded it (its cgroupsPath).
    berth::Result<berth::cgroups::Cgroup> cgroup() const
    {
        return berth::cgroups::Cgroup::open(bundle.cgroups_path());
    }
};

auto needs_root = utf::precondition(berth::test::is_root);

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_resources, *utf::label("root") * needs_root)

// (a) memory.limit 32 MiB; the init grows to ~96 MiB (the shell holds the command substitution's
// output), so the kernel's OOM killer must end it, and the cgroup counts the kill.
BOOST_FIXTURE_TEST_CASE(memory_limit_oom_kills_the_container_and_is_counted, Fixture)
{
    resources()["memory"] = {{"limit", 32 << 20}};
    const pid_t pid = start("oom", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); "
                                   "echo survived ${#x}");
    BOOST_TEST_REQUIRE(pid > 0);
    const int status = wait_exit(pid, 120s);
    BOOST_TEST(status == 137, "exit status " << status << ", stdout: " << read_all(out.get())
                                             << " stderr: " << read_all(err.get()));
    BOOST_TEST(read_all(out.get()).find("survived") == std::string::npos);
    auto cg = cgroup();
    BOOST_TEST_REQUIRE(cg.has_value(), why(cg));
    auto kills = cg->oom_kill_count();
    BOOST_TEST_REQUIRE(kills.has_value(), why(kills));
    BOOST_TEST(*kills >= 1u);
    auto stats = rt::stats(options, id());
    BOOST_TEST_REQUIRE(stats.has_value(), why(stats));
    BOOST_TEST(stats->memory_limit == 32u << 20);
    BOOST_TEST(stats->oom_kill_events >= 1u);
    auto removed = rt::remove(options, id(), false);
    BOOST_TEST(removed.has_value(), why(removed));
}

// (b) pids.limit 16: an inner shell starts background sleeps until fork fails (busybox sh then
// exits); the outer shell (pid 1) counts the processes left with a builtin glob (no fork).
BOOST_FIXTURE_TEST_CASE(pids_limit_stops_a_fork_loop_at_the_limit, Fixture)
{
    resources()["pids"] = {{"limit", 16}};
    const pid_t pid = start("pids", "sh -c 'for i in $(seq 40); do sleep 1000 & done' 2>/dev/null; "
                                    "n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; "
                                    "echo $((n-1)); sleep 1000");
    BOOST_TEST_REQUIRE(pid > 0);
    std::string count;
    for (int i = 0; i < 600 && count.find('\n') == std::string::npos; ++i) {
        std::this_thread::sleep_for(100ms);
        count = read_all(out.get());
    }
    BOOST_TEST_REQUIRE(!count.empty(), "no count printed; stderr: " << read_all(err.get()));
    const int sleeps = std::stoi(count);
    BOOST_TEST(sleeps < 16, "background sleeps started: " << sleeps);
    BOOST_TEST(sleeps >= 10, "the loop should reach the limit, started: " << sleeps);
    auto stats = rt::stats(options, id());
    BOOST_TEST_REQUIRE(stats.has_value(), why(stats));
    BOOST_TEST(stats->pids_limit == 16u);
    BOOST_TEST(stats->pids_current <= 16u);
    auto removed = rt::remove(options, id(), true);
    BOOST_TEST(removed.has_value(), why(removed));
    (void)wait_exit(pid, 10s); // reap it, if the runtime did not
}

// (c) cpu quota 20 ms per 100 ms period: a busy loop of 1 s gets about 0.2 s of CPU. Checked as
// CPU time over the container's elapsed time, because under the VM tier's emulation (TCG on a
// loaded machine) the guest's "1 s" loop took about 4 s (0.79 s of CPU, 38 throttled periods).
// Wide bounds: a loaded machine may give less than 20%, never much more.
BOOST_FIXTURE_TEST_CASE(cpu_quota_throttles_a_busy_loop_to_a_fifth, Fixture)
{
    resources()["cpu"] = {{"quota", 20000}, {"period", 100000}};
    const pid_t pid = start("cpu", "timeout 1 sh -c 'while :; do :; done'; echo done");
    const auto started = std::chrono::steady_clock::now(); // the init waited until start()
    BOOST_TEST_REQUIRE(pid > 0);
    BOOST_TEST(wait_exit(pid, 60s) == 0, "stderr: " << read_all(err.get()));
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    auto stats = rt::stats(options, id());
    BOOST_TEST_REQUIRE(stats.has_value(), why(stats));
    const double seconds = static_cast<double>(stats->cpu_usage_usec) / 1e6;
    const double share = seconds / elapsed.count();
    BOOST_TEST_MESSAGE("cpu usage " << seconds << " s in " << elapsed.count() << " s ("
                                    << share * 100 << "%), throttled periods "
                                    << stats->cpu_throttled_periods);
    BOOST_TEST(seconds > 0.02, "the loop did not run: " << seconds << " s");
    BOOST_TEST(share < 0.35,
               "not throttled to 20%: " << seconds << " s of CPU in " << elapsed.count() << " s");
    BOOST_WARN(stats->cpu_throttled_periods > 0u);
    auto removed = rt::remove(options, id(), false);
    BOOST_TEST(removed.has_value(), why(removed));
}

// (d) devices: the default config denies everything ({"allow": false}); the runtime adds runc's
// defaults (null, zero, ..., mknod of any node). The container, given CAP_MKNOD, makes a node for
// a device outside the defaults (10:229, /dev/fuse) and one inside them (1:3, /dev/null): the
// first fails with EPERM from the device cgroup (checked before any driver), the second opens.
// Not through linux.devices: the runtime always allows those (see with_default_devices).
BOOST_FIXTURE_TEST_CASE(device_rules_deny_a_node_outside_the_defaults, Fixture)
{
    resources()["devices"] = nlohmann::json::array({{{"allow", false}, {"access", "rwm"}}});
    for (const char* set : {"bounding", "effective", "permitted"})
        bundle.config["process"]["capabilities"][set].push_back("CAP_MKNOD");
    const pid_t pid = start("dev", "mknod /dev/blocked c 10 229 && mknod /dev/allowed c 1 3 && "
                                   "head -c1 /dev/allowed && echo allowed-ok; "
                                   "head -c1 /dev/blocked; echo blocked-exit $?");
    BOOST_TEST_REQUIRE(pid > 0);
    BOOST_TEST(wait_exit(pid, 60s) == 0);
    const auto text = read_all(out.get());
    const auto errors = read_all(err.get());
    BOOST_TEST(text.find("allowed-ok") != std::string::npos, text << errors);
    BOOST_TEST(text.find("blocked-exit 1") != std::string::npos, text << errors);
    BOOST_TEST(errors.find("/dev/blocked: Operation not permitted") != std::string::npos, errors);
    auto removed = rt::remove(options, id(), false);
    BOOST_TEST(removed.has_value(), why(removed));
}

// (e) pause freezes the cgroup: a counter printing every 10 ms stops growing, and grows again
// after resume.
BOOST_FIXTURE_TEST_CASE(pause_stops_a_counter_and_resume_restarts_it, Fixture)
{
    const pid_t pid = start("pause", "i=0; while :; do i=$((i+1)); echo $i; sleep 0.01; done");
    BOOST_TEST_REQUIRE(pid > 0);
    auto grows = [&](std::chrono::milliseconds within) {
        const auto before = read_all(out.get()).size();
        // (not `auto waited = 0ms`: cppcheck 2.10 cannot parse that literal)
        for (std::chrono::milliseconds waited{0}; waited < within; waited += 50ms) {
            std::this_thread::sleep_for(50ms);
            if (read_all(out.get()).size() > before)
                return true;
        }
        return false;
    };
    BOOST_TEST_REQUIRE(grows(20s), "the counter never started: " << read_all(err.get()));
    auto paused = rt::pause(options, id());
    BOOST_TEST_REQUIRE(paused.has_value(), why(paused));
    auto s = rt::state(options, id());
    BOOST_TEST((s && s->status == rt::Status::Paused), why(s));
    BOOST_TEST(!grows(1s), "the counter moved while paused");
    auto resumed = rt::resume(options, id());
    BOOST_TEST_REQUIRE(resumed.has_value(), why(resumed));
    BOOST_TEST(grows(20s), "the counter did not move after resume");
    auto removed = rt::remove(options, id(), true);
    BOOST_TEST(removed.has_value(), why(removed));
    (void)wait_exit(pid, 10s); // reap it, if the runtime did not
}

// (f) a quota below the kernel's 1 ms minimum passes the spec parser (runc passes it on too) and
// is refused by the kernel: create fails naming the resource, with no state dir, no cgroup.
BOOST_FIXTURE_TEST_CASE(a_limit_the_kernel_rejects_fails_create_naming_it_and_leaves_nothing,
                        Fixture)
{
    resources()["cpu"] = {{"quota", 500}, {"period", 100000}};
    bundle.set_args({"true"});
    bundle.write();
    auto co = create_options(new_id("reject"));
    auto created = rt::create(options, co);
    BOOST_TEST_REQUIRE(!created.has_value(), "create accepted a 500 us quota");
    const auto message = created.error().message();
    BOOST_TEST_MESSAGE("create failed: " << message);
    const bool names_it = message.find("cpu.max") != std::string::npos ||
                          message.find("cpu.cfs_quota_us") != std::string::npos;
    BOOST_TEST(names_it, message);
    BOOST_TEST(message.find("500") != std::string::npos, message);
    BOOST_TEST(berth::test::list_dir(options.root).empty());
    BOOST_TEST(!berth::test::cgroup_exists(bundle.cgroups_path()));
}

BOOST_AUTO_TEST_SUITE_END()
