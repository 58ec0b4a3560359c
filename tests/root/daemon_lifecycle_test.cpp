#define BOOST_TEST_MODULE daemon_lifecycle
// berthd's systemd side, as a child process inside the network and mount namespaces this test
// made: SIGHUP reloads the configuration file (live keys applied, the others reported as needing
// a restart, a malformed file refused with berthd running on), and with
// BERTH_STOP_TASKS_ON_SHUTDOWN=true SIGTERM stops and cleans up every task before berthd exits,
// those already STOPPED and waiting for their cleanup as compact records included.
// (The watchdog and the journal need systemd as PID 1: tests/vm/systemd_berthd.sh.) Only
// processes this test started are killed, by pid.
#include "tests/root/daemon_support.hpp"

using namespace berth;
using namespace berth::test;
using namespace berth::test::daemon;

namespace {

// Its own names, port and subnet, apart from the other daemon tests'.
const Site lifecycle{"lifecycle", 18690, "10.213.78.0/24"};

// SIGTERM with BERTH_STOP_TASKS_ON_SHUTDOWN on: berthd stops and cleans up every task, then
// exits 0 saying so.
void sigterm_drains(Node& node)
{
    ::kill(node.berthd->pid(), SIGTERM);
    const auto out = node.berthd->wait(60s);
    BOOST_TEST(out.status == 0, out.err);
    BOOST_TEST(out.err.find("every task stopped and cleaned up") != std::string::npos, out.err);
    node.berthd.reset();
}

void write_config(const Node& node, const std::string& text)
{
    std::ofstream(node.dir.path() + "/berth.conf", std::ios::trunc) << text;
}

std::string runtime_list(const Node& node)
{
    return run_command({env_or("BERTH_BUILD_ROOT", "build") + "/runtime/cli/berth-runtime",
                        "--root", node.run + "/containers", "list", "--format", "json"})
        .out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(berthd_lifecycle, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(sighup_applies_live_keys_reports_restart_keys_and_refuses_a_malformed_file)
{
    Node node(lifecycle);
    write_config(node, "ECS_LOGLEVEL=info\nECS_CLUSTER=default\n");
    ::kill(node.berthd->pid(), SIGHUP);
    BOOST_TEST_REQUIRE(node.logged("configuration reloaded", 10s), node.berthd->err());
    BOOST_TEST(node.berthd->err().find("applied= needs_restart=\n") != std::string::npos,
               node.berthd->err());

    write_config(node, "ECS_LOGLEVEL=debug\nECS_CLUSTER=elsewhere\n");
    ::kill(node.berthd->pid(), SIGHUP);
    BOOST_TEST_REQUIRE(node.logged("applied=ECS_LOGLEVEL needs_restart=ECS_CLUSTER", 10s),
                       node.berthd->err());
    // The per-key warning is a line of its own, written after the summary line.
    BOOST_TEST(node.logged("key=ECS_CLUSTER", 10s), node.berthd->err());
    // The new level is in force: a task's container status lines are debug lines.
    const auto arn = node.run_hello_running();
    BOOST_TEST(node.logged("level=debug msg=\"container status\"", 10s), node.berthd->err());
    // ECS_CLUSTER needs a restart: the API still serves the cluster berthd started with.
    BOOST_TEST(node.ok({"list-tasks"})["taskArns"].size() == 1U);

    write_config(node, "ECS_LOGLEVEL=loud\n");
    ::kill(node.berthd->pid(), SIGHUP);
    BOOST_TEST_REQUIRE(node.logged("reload refused", 10s), node.berthd->err());
    BOOST_TEST(node.berthd->err().find("loud") != std::string::npos, node.berthd->err());
    BOOST_TEST(::kill(node.berthd->pid(), 0) == 0);
    BOOST_TEST(node.describe(arn)["lastStatus"] == "RUNNING");
    node.stop_task(arn);
}

BOOST_AUTO_TEST_CASE(with_stop_tasks_on_shutdown_sigterm_stops_and_cleans_every_task_first)
{
    Node node(lifecycle);
    node.register_definition(hello_definition());
    const auto arns = node.run_hello_tasks_running(2);
    BOOST_TEST(runtime_list(node).find("running") != std::string::npos, runtime_list(node));
    BOOST_TEST(!node.mounts_of_ours().empty());

    // Switched on by a reload, as an operator decommissioning a node would.
    write_config(node, "BERTH_STOP_TASKS_ON_SHUTDOWN=true\n");
    ::kill(node.berthd->pid(), SIGHUP);
    BOOST_TEST_REQUIRE(node.logged("applied=BERTH_STOP_TASKS_ON_SHUTDOWN", 10s),
                       node.berthd->err());
    sigterm_drains(node);

    // Nothing of the tasks is left: containers, rootfs mounts, task netns, cgroups, logs.
    BOOST_TEST(runtime_list(node).find("\"id\"") == std::string::npos, runtime_list(node));
    BOOST_TEST(node.mounts_of_ours().empty(), node.mounts_of_ours());
    std::error_code ec;
    BOOST_TEST(fs::is_empty(node.run + "/net/netns", ec));
    for (const auto& d : cgroup_dirs(lifecycle))
        for (const auto& child : fs::directory_iterator(d, ec))
            BOOST_TEST(!child.is_directory(), child.path());
    // Each task's log directory went with its last container's logs.
    BOOST_TEST(fs::is_empty(node.state + "/logs", ec));
    // Every image lease was released before berthd exited: the drain waits for each cleanup.
    node.expect_no_image_leases();

    // The next berthd reports them STOPPED, saying why; it leaves tasks alone on SIGTERM again
    // once the key is off.
    write_config(node, "\n");
    node.start();
    for (const auto& arn : arns) {
        const auto task = node.describe(arn);
        BOOST_TEST(task["lastStatus"] == "STOPPED", task.dump());
        BOOST_TEST(std::string(task["stoppedReason"]).find("shutting down") != std::string::npos,
                   task.dump());
    }
}

// A task STOPPED before the drain waits for its cleanup (an hour here) as a compact record
// (agent/daemon/stopped.cpp): the drain brings that cleanup forward too.
BOOST_AUTO_TEST_CASE(with_stop_tasks_on_shutdown_a_stopped_task_awaiting_cleanup_is_cleaned_first)
{
    Node node(lifecycle);
    node.stop();
    node.extra_env = {"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=1h", "ECS_LOGLEVEL=debug",
                      "BERTH_STOP_TASKS_ON_SHUTDOWN=true"};
    node.start();
    const auto arn = node.run_hello_running();
    node.stop_task(arn);
    BOOST_TEST_REQUIRE(node.logged("stopped task kept compact until its cleanup", 10s),
                       node.berthd->err());
    BOOST_TEST(!node.mounts_of_ours().empty());

    sigterm_drains(node);
    BOOST_TEST(runtime_list(node).find("\"id\"") == std::string::npos, runtime_list(node));
    BOOST_TEST(node.mounts_of_ours().empty(), node.mounts_of_ours());
    std::error_code ec;
    BOOST_TEST(fs::is_empty(node.state + "/logs", ec));
    node.expect_no_image_leases();
}

BOOST_AUTO_TEST_SUITE_END()
