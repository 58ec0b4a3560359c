#define BOOST_TEST_MODULE daemon_limits
// Task-level cpu and memory enforced (audit 17, gap 5), berthd as a child process in the
// namespaces this test made, on real cgroups below a cgroup root this test owns: a task with
// task memory gets a cgroup of its own, <root>/<task-id>, limited to it, holding its containers'
// cgroups; a container without memory of its own that allocates past the task's memory is
// OOM-killed (exit 137, OutOfMemoryError); task cpu is a CFS quota of cpu/1024 CPUs per 100 ms;
// the task cgroup survives a berthd SIGKILL (berth-supervisor records an OOM kill meanwhile) and
// is removed with the task's cleanup, also when a crash cut that cleanup short; with
// ECS_ENABLE_TASK_CPU_MEM_LIMIT=false nothing of the kind is made; the task cgroup of a task no
// longer unfinished at a restart (written finished while its cgroup was left) goes at restore. An
// OOM kill while berthd is down keeps its OutOfMemoryError reason after the restart, whether
// berth-supervisor recorded it and stayed, recorded it and left, or was SIGKILLed too (issue 17).
// Reads v1 and v2 files alike: suite root runs it on the hybrid host (v1 memory and cpu), the vm
// suite as daemon_limits_v2 on a pure cgroup v2 guest, where only the v2 files exist (memory.max,
// cpu.max, memory.events, cgroup.subtree_control). Only processes this test started are killed,
// by pid.
#include "agent/store/store.hpp"
#include "base/strings.hpp"
#include "tests/root/daemon_support.hpp"

using namespace berth;
using namespace berth::test;
using namespace berth::test::daemon;

namespace {

// Its own names, port and subnet, apart from the other daemon tests'.
const Site limits{"limits", 18700, "10.213.79.0/24"};

constexpr std::uint64_t mib = std::uint64_t{1024} * 1024;

// A task definition of `family` with task-level cpu/memory (empty: none) and one container per
// entry of `scripts` (named c0, c1, ...) running that shell script, with no memory or cpu of
// its own. The host directory `trigger` is each container's /trigger.
json limited_definition(const std::string& family, const std::string& cpu,
                        const std::string& memory, const std::vector<std::string>& scripts,
                        const std::string& trigger)
{
    json def = {{"family", family},
                {"networkMode", "none"},
                {"volumes", {{{"name", "trigger"}, {"host", {{"sourcePath", trigger}}}}}},
                {"containerDefinitions", json::array()}};
    if (!cpu.empty())
        def["cpu"] = cpu;
    if (!memory.empty())
        def["memory"] = memory;
    for (std::size_t i = 0; i < scripts.size(); ++i)
        def["containerDefinitions"].push_back(
            {{"name", "c" + std::to_string(i)},
             {"image", "berth.local/hello:latest"},
             {"entryPoint", {"/bin/sh", "-c"}},
             {"command", {scripts[i]}},
             {"mountPoints", {{{"sourceVolume", "trigger"}, {"containerPath", "/trigger"}}}}});
    return def;
}

// Waits for /trigger/go, then doubles a shell string until something kills it.
const std::string hog = "while [ ! -e /trigger/go ]; do sleep 0.1; done; "
                        "x=0123456789abcdef; while true; do x=$x$x; done";
// Runs until SIGTERM (PID 1 of its namespace: a trap, or it would wait for the SIGKILL).
const std::string idle = "trap 'exit 0' TERM; while true; do sleep 0.2; done";

std::string task_id(const std::string& arn)
{
    return arn.substr(arn.rfind('/') + 1);
}

// A file of the cgroup at `relative` below this test's cgroup root, from the first hierarchy
// that has it (v1 controller hierarchies on hybrid hosts, the unified one on pure v2); "" when
// none does.
std::string cgroup_file(const std::string& relative, const std::string& file)
{
    for (const auto& dir : cgroup_dirs(limits)) {
        const auto path = cat(dir, "/", relative, "/", file);
        if (fs::exists(path))
            return std::string(trim(read_all(path)));
    }
    return "";
}

// A pure cgroup v2 host (the vm suite's guest): the unified hierarchy at /sys/fs/cgroup itself.
bool pure_v2()
{
    return fs::exists("/sys/fs/cgroup/cgroup.controllers");
}

bool cgroup_dir_exists(const std::string& relative)
{
    for (const auto& dir : cgroup_dirs(limits))
        if (fs::exists(cat(dir, "/", relative)))
            return true;
    return false;
}

// The memory limit in bytes of the cgroup at `relative` (v2 memory.max, v1
// memory.limit_in_bytes); 0 for none ("max", or v1's page-rounded LONG_MAX).
std::uint64_t memory_limit(const std::string& relative)
{
    auto text = cgroup_file(relative, "memory.max");
    if (text.empty())
        text = cgroup_file(relative, "memory.limit_in_bytes");
    BOOST_TEST_REQUIRE(!text.empty(), "no memory limit file in cgroup " << relative);
    if (text == "max")
        return 0;
    const auto value = std::stoull(text);
    return value >= (std::uint64_t{1} << 62) ? 0 : value;
}

// The CFS quota and period in microseconds (v2 cpu.max, v1 cpu.cfs_quota_us/cfs_period_us);
// quota -1 for none.
std::pair<std::int64_t, std::int64_t> cpu_quota(const std::string& relative)
{
    const auto max = cgroup_file(relative, "cpu.max");
    if (!max.empty()) {
        const auto space = max.find(' ');
        const auto quota = max.substr(0, space);
        return {quota == "max" ? -1 : std::stoll(quota), std::stoll(max.substr(space + 1))};
    }
    const auto quota = cgroup_file(relative, "cpu.cfs_quota_us");
    const auto period = cgroup_file(relative, "cpu.cfs_period_us");
    BOOST_TEST_REQUIRE(!quota.empty(), "no CFS quota file in cgroup " << relative);
    return {std::stoll(quota), std::stoll(period)};
}

// The OOM kills counted in the cgroup at `relative` (v2 memory.events, v1 memory.oom_control):
// what berth reads to tell an OOM kill from another SIGKILL.
std::uint64_t oom_kills(const std::string& relative)
{
    auto text = cgroup_file(relative, "memory.events");
    if (text.empty())
        text = cgroup_file(relative, "memory.oom_control");
    BOOST_TEST_REQUIRE(!text.empty(), "no OOM event file in cgroup " << relative);
    const auto at = text.find("oom_kill ");
    BOOST_TEST_REQUIRE(at != std::string::npos, text);
    return std::stoull(text.substr(at + 9));
}

// ECS's reason for a container the kernel killed for memory, live or while berthd was down.
const std::string oom_reason = "OutOfMemoryError: Container killed due to memory usage";

struct Trigger {
    TempDir dir{"berth-limits-trigger"};
    void pull() const { std::ofstream(dir.path() + "/go") << "go\n"; }
};

} // namespace

BOOST_AUTO_TEST_SUITE(berthd_task_limits, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(task_memory_limits_a_container_without_its_own_which_is_oom_killed_past_it)
{
    Node node(limits);
    Trigger trigger;
    node.register_definition(limited_definition("taskmem", "", "64", {hog}, trigger.dir.path()));
    const auto arn = node.run_task("taskmem");
    node.wait_status(arn, "RUNNING");
    const auto id = task_id(arn);
    const auto container = id + "/" + id + "-c0";
    BOOST_TEST_REQUIRE(cgroup_dir_exists(container), "the container's cgroup is not below "
                                                         << id << ":\n"
                                                         << node.left_behind());
    BOOST_TEST(memory_limit(id) == 64 * mib);
    BOOST_TEST(memory_limit(container) == 0U); // none of its own: the task's bounds it
    BOOST_TEST(cpu_quota(id).first == -1);     // no task cpu: no quota

    trigger.pull();
    const auto stopped = node.wait_status(arn, "STOPPED");
    const auto& c = stopped["containers"][0];
    BOOST_TEST(c.value("exitCode", 0) == 137, stopped.dump());
    BOOST_TEST(c.value("reason", "") == oom_reason, stopped.dump());
    BOOST_TEST(stopped["stopCode"] == "EssentialContainerExited", stopped.dump());
    node.expect_nothing_left(); // the task's cgroup too, once its cleanup ran
}

BOOST_AUTO_TEST_CASE(task_cpu_is_a_cfs_quota_over_all_its_containers_and_goes_with_the_task)
{
    Node node(limits);
    Trigger trigger;
    node.register_definition(
        limited_definition("taskcpu", "512", "128", {idle, idle}, trigger.dir.path()));
    const auto arn = node.run_task("taskcpu");
    node.wait_status(arn, "RUNNING");
    const auto id = task_id(arn);
    // 512 units are half a CPU: 50 ms of every 100 ms, for both containers together.
    BOOST_TEST((cpu_quota(id) == std::pair<std::int64_t, std::int64_t>{50000, 100000}));
    BOOST_TEST(memory_limit(id) == 128 * mib);
    if (pure_v2()) { // the task cgroup delegates both controllers to its containers' cgroups
        const auto delegated = " " + cgroup_file(id, "cgroup.subtree_control") + " ";
        BOOST_TEST(delegated.find(" cpu ") != std::string::npos, delegated);
        BOOST_TEST(delegated.find(" memory ") != std::string::npos, delegated);
    }
    for (const auto* name : {"-c0", "-c1"}) {
        const auto container = cat(id, "/", id, name);
        BOOST_TEST_REQUIRE(cgroup_dir_exists(container), container);
        BOOST_TEST(cpu_quota(container).first == -1, container); // the task's quota bounds it
    }
    node.stop_task(arn);
    node.expect_nothing_left();
    BOOST_TEST(!cgroup_dir_exists(id));
}

BOOST_AUTO_TEST_CASE(with_the_key_false_containers_get_their_cgroups_directly_below_the_root)
{
    Node node(limits);
    node.stop();
    node.extra_env = {"ECS_ENABLE_TASK_CPU_MEM_LIMIT=false"};
    node.start();
    Trigger trigger;
    node.register_definition(
        limited_definition("taskflat", "512", "128", {idle}, trigger.dir.path()));
    const auto arn = node.run_task("taskflat");
    node.wait_status(arn, "RUNNING");
    const auto id = task_id(arn);
    BOOST_TEST(!cgroup_dir_exists(id), node.left_behind());
    BOOST_TEST(cgroup_dir_exists(id + "-c0"), node.left_behind());
    node.stop_task(arn);
    node.expect_nothing_left();
}

// berthd SIGKILLed while the task runs: berth-supervisor records the container's OOM kill
// meanwhile (exit 137 after the restart); the task cgroup stays until the cleanup, which a
// second SIGKILL cuts short; the restarted berthd finishes it.
BOOST_AUTO_TEST_CASE(the_task_cgroup_outlives_berthd_crashes_and_goes_with_the_resumed_cleanup)
{
    Node node(limits);
    node.stop();
    node.extra_env = {cat("ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=", 8 * time_scale(), "s")};
    node.start();
    Trigger trigger;
    node.register_definition(
        limited_definition("taskcrash", "256", "64", {hog}, trigger.dir.path()));
    const auto arn = node.run_task("taskcrash");
    node.wait_status(arn, "RUNNING");
    const auto id = task_id(arn);
    const auto kill_berthd = [&node] {
        ::kill(node.berthd->pid(), SIGKILL);
        (void)node.berthd->wait(scaled(20s));
        node.berthd.reset();
    };

    kill_berthd();
    trigger.pull(); // the container dies for memory while berthd is down
    // berth-supervisor, its reaper, saw the OOM kill in the container's cgroup below the task's.
    const auto record = node.run + "/containers/" + id + "-c0/exit-init.json";
    json exit;
    BOOST_TEST(eventually(
        [&] {
            const auto text = read_all(record);
            exit = json::parse(text.empty() ? "{}" : text, nullptr, false);
            return exit.is_object() && exit.contains("oomKilled");
        },
        150, 100ms));
    BOOST_TEST(exit.value("oomKilled", false), exit.dump());
    BOOST_TEST(oom_kills(cat(id, "/", id, "-c0")) >= 1U); // the count the record came from
    BOOST_TEST(memory_limit(id) == 64 * mib);
    node.start();
    const auto stopped = node.wait_status(arn, "STOPPED");
    // Its exit code and the reason the exit record gives, as when berthd watched it live.
    BOOST_TEST(stopped["containers"][0].value("exitCode", 0) == 137, stopped.dump());
    BOOST_TEST(stopped["containers"][0].value("reason", "") == oom_reason, stopped.dump());

    kill_berthd(); // before the cleanup (8 s after STOPPED, times time_scale())
    BOOST_TEST(cgroup_dir_exists(id), node.left_behind());
    node.start();
    node.expect_nothing_left();
    BOOST_TEST(node.describe(arn)["lastStatus"] == "STOPPED");
}

// Issue 17: an OOM kill while berthd is down is reported with its reason after the restart,
// also when berth-supervisor recorded it and then left (idle) before berthd came back, so that
// runtime::recover() reads the exit record from disk with no supervisor to ask.
BOOST_AUTO_TEST_CASE(an_oom_kill_while_berthd_and_then_the_supervisor_are_gone_keeps_its_reason)
{
    Node node(limits);
    node.stop();
    node.extra_env = {"BERTH_SUPERVISOR_IDLE_EXIT=1s"};
    node.start();
    Trigger trigger;
    node.register_definition(limited_definition("taskidle", "", "64", {hog}, trigger.dir.path()));
    const auto arn = node.run_task("taskidle");
    node.wait_status(arn, "RUNNING");
    const auto pid_file = node.run + "/supervisor.pid";
    BOOST_TEST_REQUIRE(fs::exists(pid_file));
    ::kill(node.berthd->pid(), SIGKILL);
    (void)node.berthd->wait(scaled(20s));
    node.berthd.reset();

    trigger.pull();
    // Killed for memory, recorded, and then nothing left to supervise: the supervisor leaves
    // (its pid file goes last, with its socket).
    BOOST_TEST_REQUIRE(eventually([&] { return !fs::exists(pid_file); }, 150, 100ms),
                       "the supervisor did not leave after the container ended");
    const auto exit =
        json::parse(read_all(cat(node.run, "/containers/", task_id(arn), "-c0", "/exit-init.json")),
                    nullptr, false);
    BOOST_TEST(exit.value("oomKilled", false), exit.dump());
    node.start();
    const auto stopped = node.wait_status(arn, "STOPPED");
    BOOST_TEST(stopped["containers"][0].value("exitCode", 0) == 137, stopped.dump());
    BOOST_TEST(stopped["containers"][0].value("reason", "") == oom_reason, stopped.dump());
    BOOST_TEST(stopped["stopCode"] == "EssentialContainerExited", stopped.dump());
    node.expect_nothing_left();
}

// Issue 17: berthd and berth-supervisor both SIGKILLed, then the container is killed for memory
// with no reaper watching (its orphaned init is reaped by whoever inherits it): no exit record
// is written, and the restarted berthd still reports exit 137 with OutOfMemoryError, from the
// OOM kill its cgroup counted (as Docker's OOMKilled), not "exit status unknown".
BOOST_AUTO_TEST_CASE(an_oom_kill_with_neither_berthd_nor_the_supervisor_running_keeps_its_reason)
{
    Node node(limits);
    Trigger trigger;
    node.register_definition(limited_definition("tasknone", "", "64", {hog}, trigger.dir.path()));
    const auto arn = node.run_task("tasknone");
    node.wait_status(arn, "RUNNING");
    const auto dir = cat(node.run, "/containers/", task_id(arn), "-c0");
    const auto state = json::parse(read_all(dir + "/state.json"), nullptr, false);
    BOOST_TEST_REQUIRE(state.is_object(), dir);
    const auto init = state.value("pid", 0);
    BOOST_TEST_REQUIRE(init > 0, state.dump());
    const auto supervisor = static_cast<pid_t>(std::stol(read_all(node.run + "/supervisor.pid")));
    ::kill(node.berthd->pid(), SIGKILL);
    (void)node.berthd->wait(scaled(20s));
    node.berthd.reset();
    BOOST_TEST_REQUIRE(::kill(supervisor, SIGKILL) == 0);

    trigger.pull();
    BOOST_TEST_REQUIRE(eventually([&] { return !fs::exists(cat("/proc/", init)); }, 150, 100ms),
                       "the container's init was not killed for memory");
    BOOST_TEST(!fs::exists(dir + "/exit-init.json")); // nobody was left to record it
    node.start();
    const auto stopped = node.wait_status(arn, "STOPPED");
    BOOST_TEST(stopped["containers"][0].value("exitCode", 0) == 137, stopped.dump());
    BOOST_TEST(stopped["containers"][0].value("reason", "") == oom_reason, stopped.dump());
    node.expect_nothing_left();
}

// Issue 17: a task written finished in the store while its task cgroup (and its container) is
// still there, as a crash can leave it, is unknown to the restarted berthd: its container is
// removed and then its cgroup, <root>/<task-id>, in every hierarchy. A running task's stays.
BOOST_AUTO_TEST_CASE(the_task_cgroup_of_a_task_unknown_at_restore_goes_and_a_running_ones_stays)
{
    Node node(limits);
    Trigger trigger;
    node.register_definition(limited_definition("taskgone", "", "64", {idle}, trigger.dir.path()));
    const auto gone_arn = node.run_task("taskgone");
    const auto kept_arn = node.run_task("taskgone");
    node.wait_status(gone_arn, "RUNNING");
    node.wait_status(kept_arn, "RUNNING");
    const auto gone = task_id(gone_arn);
    const auto kept = task_id(kept_arn);
    const auto dirs = cgroup_dirs(limits);
    BOOST_TEST_REQUIRE(!dirs.empty());
    for (const auto& dir : dirs)
        for (const auto& id : {gone, kept})
            BOOST_TEST_REQUIRE(fs::exists(cat(dir, "/", id)), dir << " has no cgroup " << id);
    node.stop(); // SIGTERM: both tasks run on
    {
        auto db = store::Store::open(node.state + "/berth.db");
        BOOST_TEST_REQUIRE(db.has_value(), (db ? "" : db.error().message()));
        auto record = db->task(gone_arn);
        BOOST_TEST_REQUIRE((record && *record));
        auto finished = **record;
        finished.engine_state.clear(); // what a finished cleanup writes
        BOOST_TEST_REQUIRE(db->put_task(finished).has_value());
    }
    node.start();
    BOOST_TEST(node.logged("removed the cgroup of a finished task", 20s), node.berthd->err());
    BOOST_TEST(node.logged("removed a container no task owns", 1s), node.berthd->err());
    for (const auto& dir : dirs) {
        BOOST_TEST(!fs::exists(cat(dir, "/", gone)), dir << ":\n" << node.left_behind());
        BOOST_TEST(fs::exists(cat(dir, "/", kept, "/", kept, "-c0")), dir);
    }
    BOOST_TEST(memory_limit(kept) == 64 * mib);
    BOOST_TEST(node.describe(kept_arn)["lastStatus"] == "RUNNING");
    node.stop_task(kept_arn);
    node.expect_nothing_left();
}

BOOST_AUTO_TEST_SUITE_END()
