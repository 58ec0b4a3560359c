#define BOOST_TEST_MODULE daemon
// berthd end to end, as a child process inside the network and mount namespaces this test
// made (never the host's): the offline demo image loaded into its image store, a task
// definition registered and run through the real aws CLI, RUNNING with a dynamic host port that
// serves the page, StopTask to STOPPED with an exit code, then nothing left (rootfs mounts,
// task netns, nftables port elements, container cgroups). Also: a task whose image is missing
// ends STOPPED saying why, and berthd stopped (SIGTERM) and started again re-adopts a running
// task. Only processes this test started are killed, by pid. A node idle again after its tasks
// stopped hands its freed heap back (agent/berthd/memory.cpp), and not while a task runs. A
// STOPPED task waiting for its cleanup is kept as a compact record (agent/daemon/stopped.cpp):
// it is described, its metadata answers and its cleanup removes everything as before, also
// after a restart.
#include "tests/root/daemon_support.hpp"

using namespace berth;
using namespace berth::test;
using namespace berth::test::daemon;

namespace {

constexpr std::string_view compacted = "stopped task kept compact until its cleanup";

// The task's metadata URL of its container `name` (its ECS_CONTAINER_METADATA_URI_V4, from the
// config the runtime keeps), on berthd's metadata listener as seen from this test's netns.
std::string metadata_url(const Node& node, const std::string& arn, const std::string& name)
{
    const auto id = arn.substr(arn.rfind('/') + 1);
    const auto config = json::parse(
        read_all(node.run + "/containers/" + id + "-" + name + "/config.json"), nullptr, false);
    BOOST_TEST_REQUIRE(config.is_object(), "no runtime config for " << name);
    const std::string prefix = "ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2";
    for (const auto& e : config["process"]["env"]) {
        const std::string text = e;
        if (text.starts_with(prefix))
            return "http://127.0.0.1:51679" + text.substr(prefix.size());
    }
    BOOST_FAIL("no ECS_CONTAINER_METADATA_URI_V4 in the container's environment");
    return {};
}

// GET url: the HTTP status and the body as JSON (discarded if it is none).
std::pair<int, json> metadata(const std::string& url)
{
    const auto out = run_command(
        {"curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "10", url}, 15s);
    const auto newline = out.out.rfind('\n');
    if (newline == std::string::npos)
        return {0, json()};
    return {static_cast<int>(std::strtol(out.out.c_str() + newline + 1, nullptr, 10)),
            json::parse(out.out.substr(0, newline), nullptr, false)};
}

// A described task as it reads after `writes` more writes of its record: each write is a version
// (agent/daemon/record.cpp), nothing else changes once it is STOPPED.
json written_again(json task, int writes = 1)
{
    task["version"] = task["version"].get<int>() + writes;
    return task;
}

std::size_t times_logged(const Node& node, std::string_view line)
{
    std::size_t n = 0;
    const auto err = node.berthd->err();
    for (auto at = err.find(line); at != std::string::npos; at = err.find(line, at + 1))
        ++n;
    return n;
}

// Once `tasks` tasks were removed (within 40 s): nothing of the node's tasks left, neither
// mounts, netns, cgroups (Node::left_behind) nor runtime state, bundles, logs, image leases.
void expect_every_trace_gone(const Node& node, std::size_t tasks)
{
    BOOST_TEST(eventually([&] { return times_logged(node, "task removed") == tasks; }, 200, 200ms),
               node.berthd->err());
    BOOST_TEST(node.left_behind().empty(), node.left_behind());
    std::error_code ec;
    BOOST_TEST(fs::is_empty(node.run + "/containers", ec));
    BOOST_TEST(fs::is_empty(node.run + "/bundles", ec));
    BOOST_TEST(fs::is_empty(node.state + "/logs", ec));
    node.expect_no_image_leases();
}

} // namespace

BOOST_AUTO_TEST_SUITE(berthd, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(
    a_task_runs_serves_its_page_on_the_reported_host_port_and_stops_leaving_nothing)
{
    Node node;
    const auto arn = node.run_hello_running();
    const auto task = node.describe(arn);
    const auto& bindings = task["containers"][0]["networkBindings"];
    BOOST_TEST_REQUIRE(bindings.size() == 1U, task.dump());
    const int port = bindings[0]["hostPort"];
    BOOST_TEST(port != 0);
    BOOST_TEST(task.contains("startedAt"));
    const auto page = fetch(page_url(port));
    BOOST_TEST_REQUIRE(page.status == 0, page.err);
    BOOST_TEST(page.out.find("Hello from berth") != std::string::npos, page.out);
    BOOST_TEST(!node.mounts_of_ours().empty()); // the rootfs overlay while it runs
    BOOST_TEST(nft_ports().find(std::to_string(port)) != std::string::npos, nft_ports());

    node.ok({"stop-task", "--task", arn, "--reason", "done here"});
    const auto stopped = node.wait_status(arn, "STOPPED");
    BOOST_TEST(stopped["stoppedReason"] == "done here");
    BOOST_TEST(stopped["stopCode"] == "UserInitiated");
    BOOST_TEST(stopped["containers"][0].contains("exitCode"), stopped.dump());
    BOOST_TEST(stopped.contains("stoppedAt"));

    // Removal comes after ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION (1 s here).
    std::string left;
    eventually([&] { return (left = node.mounts_of_ours()).empty(); }, 50, 200ms);
    BOOST_TEST(left.empty(), left);
    BOOST_TEST(nft_ports().find(std::to_string(port)) == std::string::npos, nft_ports());
    std::error_code ec;
    BOOST_TEST(fs::is_empty(node.run + "/net/netns", ec));
    for (const auto& d : cgroup_dirs())
        for (const auto& child : fs::directory_iterator(d, ec))
            BOOST_TEST(!child.is_directory(), child.path());
    const auto listed = node.ok({"list-tasks", "--desired-status", "STOPPED"});
    BOOST_TEST(listed["taskArns"].size() == 1U, listed.dump());
}

BOOST_AUTO_TEST_CASE(a_task_whose_image_is_missing_ends_stopped_saying_why)
{
    Node node;
    node.register_definition(hello_definition("ghost", "berth.local/ghost:latest"));
    const auto stopped = node.wait_status(node.run_task("ghost"), "STOPPED");
    BOOST_TEST(stopped["stopCode"] == "TaskFailedToStart", stopped.dump());
    BOOST_TEST(std::string(stopped["stoppedReason"]).find("ghost") != std::string::npos,
               stopped.dump());
    std::error_code ec;
    BOOST_TEST(fs::is_empty(node.run + "/net/netns", ec));
    BOOST_TEST(node.mounts_of_ours().empty(), node.mounts_of_ours());
}

BOOST_AUTO_TEST_CASE(a_running_task_survives_a_berthd_restart_and_stops_afterwards)
{
    Node node;
    const auto arn = node.run_hello_running();
    const int port = host_port(node.describe(arn));

    node.stop(); // SIGTERM: berthd exits 0 and leaves the task running
    const auto url = page_url(port);
    const auto while_down = fetch(url);
    BOOST_TEST(while_down.status == 0, while_down.err);
    node.start();
    const auto again = node.describe(arn);
    BOOST_TEST(again["lastStatus"] == "RUNNING", again.dump());
    BOOST_TEST(fetch(url).status == 0);

    const auto stopped = node.stop_task(arn);
    BOOST_TEST(stopped["containers"][0].contains("exitCode"), stopped.dump());
}

// Issue 17 (idle memory): berth-supervisor runs only while there is something to supervise.
// berthd starts none at its own start, the first RunTask starts one, it leaves once the task's
// container is gone (BERTH_SUPERVISOR_IDLE_EXIT=1s here), the next RunTask starts another; a
// container that ends while berthd is down and the supervisor then leaves too is still
// reported with its exit code, from the record on disk, by a berthd that starts no supervisor.
BOOST_AUTO_TEST_CASE(berthd_starts_the_supervisor_on_demand_and_it_leaves_when_idle)
{
    Node node;
    const auto pid_file = node.run + "/supervisor.pid";
    const auto recorded = [&] {
        const auto text = read_all(pid_file);
        return text.empty() ? pid_t{0} : static_cast<pid_t>(std::stol(text));
    };
    const auto alive = [](pid_t pid) {
        const auto stat = read_all("/proc/" + std::to_string(pid) + "/stat");
        const auto close = stat.rfind(") ");
        return pid > 0 && close != std::string::npos && stat[close + 2] != 'Z' &&
               stat.find("(berth-superviso") != std::string::npos;
    };
    BOOST_TEST(!fs::exists(pid_file), "berthd started a supervisor with nothing to supervise");
    BOOST_TEST(!fs::exists(node.run + "/supervisor.sock"));
    node.stop();
    node.extra_env.emplace_back("BERTH_SUPERVISOR_IDLE_EXIT=1s");
    node.start();
    BOOST_TEST(!fs::exists(pid_file));

    const auto arn = node.run_hello_running();
    const pid_t first = recorded();
    BOOST_TEST_REQUIRE(alive(first), "RunTask did not start a supervisor");
    std::this_thread::sleep_for(2s); // longer than its idle time: the container keeps it
    BOOST_TEST(alive(first));
    node.stop_task(arn);
    // Removed after the cleanup wait (1 s), then idle for 1 s: gone, socket and pid file too.
    BOOST_TEST_REQUIRE(
        eventually([&] { return !alive(first) && !fs::exists(pid_file); }, 100, 100ms),
        "the supervisor stayed after the last container was removed");
    BOOST_TEST(!fs::exists(node.run + "/supervisor.sock"));

    // A task that exits 7 by itself while berthd is down; the supervisor records it and leaves.
    node.register_definition({{"family", "brief"},
                              {"networkMode", "none"},
                              {"containerDefinitions",
                               {{{"name", "brief"},
                                 {"image", "berth.local/hello:latest"},
                                 {"memory", 32},
                                 {"entryPoint", {"/bin/sh", "-c"}},
                                 {"command", {"sleep 4; exit 7"}}}}}});
    const auto brief = node.run_task("brief");
    node.wait_status(brief, "RUNNING");
    const pid_t second = recorded();
    BOOST_TEST(alive(second));
    BOOST_TEST(second != first);
    node.stop();
    BOOST_TEST_REQUIRE(eventually([&] { return !alive(second); }, 150, 100ms),
                       "the supervisor did not leave after the container ended");
    node.start();
    const auto stopped = node.wait_status(brief, "STOPPED");
    BOOST_TEST(stopped["containers"][0]["exitCode"] == 7, stopped.dump());
    node.expect_nothing_left();
}

BOOST_AUTO_TEST_CASE(berthd_returns_its_freed_heap_once_the_last_task_stopped_and_not_before)
{
    Node node;
    constexpr std::string_view idle_line = "node idle, freed heap returned to the system";
    const auto times_logged = [&] {
        std::size_t n = 0;
        const auto err = node.berthd->err();
        for (auto at = err.find(idle_line); at != std::string::npos;
             at = err.find(idle_line, at + 1))
            ++n;
        return n;
    };
    const auto arn = node.run_hello_running();
    std::this_thread::sleep_for(2s); // longer than the settle time (1 s): a running task is work
    BOOST_TEST(times_logged() == 0U, node.berthd->err());

    node.stop_task(arn);
    // When it STOPPED (and again when its cleanup, 1 s later here, has freed its records, unless
    // that came within the first call's settle time): at least once, at most twice.
    BOOST_TEST_REQUIRE(eventually([&] { return times_logged() >= 1U; }, 100, 100ms),
                       node.berthd->err());
    const auto err = node.berthd->err();
    const auto line = err.substr(err.rfind(idle_line));
    BOOST_TEST(line.find("rss_kb_before=") != std::string::npos, line);
    BOOST_TEST(line.find("rss_kb_after=") != std::string::npos, line);
    // Removed, its record written finished (the second call's cause): then more than the
    // settle time (1 s) for that call.
    BOOST_TEST_REQUIRE(node.logged("task removed", 30s), node.berthd->err());
    std::this_thread::sleep_for(scaled(2s));
    const auto settled = times_logged();
    BOOST_TEST((settled == 1U || settled == 2U), node.berthd->err());
    // An idle node is not woken again: no further call without another task.
    std::this_thread::sleep_for(2s);
    BOOST_TEST(times_logged() == settled, node.berthd->err());
    node.expect_nothing_left();
}

// Issue 17 (idle memory after 500 tasks): a STOPPED task waits for its cleanup as a compact
// record, everything else read from the store. What DescribeTasks and the metadata endpoint
// answer for it is what they answered for the whole entry, and the cleanup after the wait
// still removes everything.
BOOST_AUTO_TEST_CASE(a_stopped_task_kept_compact_answers_as_before_and_is_cleaned_up_after_the_wait)
{
    Node node;
    node.stop();
    // Long enough for the checks below, a dozen aws calls (times the time scale).
    node.extra_env = {cat("ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=", 12 * time_scale(), "s"),
                      "ECS_LOGLEVEL=debug"};
    node.start();
    const auto arn = node.run_hello_running();
    const auto running = node.describe(arn);
    const auto url = metadata_url(node, arn, "web");
    const auto [live_status, live] = metadata(url);
    BOOST_TEST_REQUIRE(live_status == 200, live.dump());
    BOOST_TEST(std::string(live["ImageID"]).starts_with("sha256:"), live.dump());

    node.ok({"stop-task", "--task", arn, "--reason", "done here"});
    const auto stopped = node.wait_status(arn, "STOPPED");
    BOOST_TEST_REQUIRE(node.logged(compacted, 10s), node.berthd->err());
    BOOST_TEST(times_logged(node, "task finished, removing its containers") == 0U);

    // Described from the store as when it had just stopped: reason, code, exit code, bindings.
    const auto later = node.describe(arn);
    BOOST_TEST(later == stopped, later.dump() << "\n" << stopped.dump());
    BOOST_TEST(later["stoppedReason"] == "done here");
    BOOST_TEST(later["stopCode"] == "UserInitiated");
    BOOST_TEST(later["containers"][0].contains("exitCode"), later.dump());
    BOOST_TEST(later["containers"][0]["networkBindings"] ==
                   running["containers"][0]["networkBindings"],
               later.dump());
    // Its metadata: the same container, image and times, now STOPPED with its exit code.
    const auto [status, mine] = metadata(url);
    BOOST_TEST_REQUIRE(status == 200, mine.dump());
    for (const auto* key : {"DockerId", "Name", "Image", "ImageID", "CreatedAt", "StartedAt",
                            "Limits", "Labels", "Networks", "Ports", "ContainerARN"})
        BOOST_TEST(mine.value(key, json()) == live.value(key, json()), key << ": " << mine.dump());
    BOOST_TEST(mine["KnownStatus"] == "STOPPED", mine.dump());
    BOOST_TEST(mine["ExitCode"] == later["containers"][0]["exitCode"], mine.dump());
    BOOST_TEST(mine.contains("FinishedAt"), mine.dump());
    const auto [task_status, whole] = metadata(url + "/task");
    BOOST_TEST_REQUIRE(task_status == 200, whole.dump());
    BOOST_TEST(whole["KnownStatus"] == "STOPPED", whole.dump());
    BOOST_TEST_REQUIRE(whole["Containers"].size() == 1U, whole.dump());
    BOOST_TEST(whole["Containers"][0] == mine, whole.dump());
    // Its cgroup stays until the cleanup: still sampled (no processes left in it).
    const auto [stats_status, stats] = metadata(url + "/stats");
    BOOST_TEST_REQUIRE(stats_status == 200, stats.dump());
    BOOST_TEST(stats.is_object(), stats.dump());
    BOOST_TEST(stats.value("id", "") == live["DockerId"], stats.dump());
    BOOST_TEST(!node.mounts_of_ours().empty()); // kept for the wait

    expect_every_trace_gone(node, 1);
    // As before the compact records: the cleanup's call wrote the record once more.
    BOOST_TEST(node.describe(arn) == written_again(stopped), node.describe(arn).dump());
    BOOST_TEST(metadata(url).first == 404); // finished: no metadata any more
}

// The compact records live only in berthd's memory: a berthd restarted while its tasks are
// STOPPED and waiting for their cleanup restores them from the store, keeps them compact again,
// and cleans them up when their wait is over.
BOOST_AUTO_TEST_CASE(a_berthd_restarted_while_stopped_tasks_await_their_cleanup_cleans_them_up)
{
    Node node;
    node.stop();
    // Long enough for the calls and the restart below (times the time scale).
    node.extra_env = {cat("ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=", 20 * time_scale(), "s"),
                      "ECS_LOGLEVEL=debug"};
    node.start();
    node.register_definition(hello_definition());
    const auto arns = node.run_hello_tasks_running(2);
    const auto url = metadata_url(node, arns[0], "web");
    const auto live = metadata(url).second;
    for (const auto& arn : arns)
        node.ok({"stop-task", "--task", arn});
    for (const auto& arn : arns)
        node.wait_status(arn, "STOPPED");
    BOOST_TEST_REQUIRE(eventually([&] { return times_logged(node, compacted) == 2U; }, 100, 100ms),
                       node.berthd->err());
    // The records as the restart finds them: read once both are compact (a busy machine may
    // still write one between its STOPPED and its compaction).
    std::vector<json> stopped;
    stopped.reserve(arns.size());
    for (const auto& arn : arns)
        stopped.push_back(node.describe(arn));

    node.stop(); // SIGTERM: the tasks stay as they are
    BOOST_TEST(!node.mounts_of_ours().empty());
    node.start();
    BOOST_TEST_REQUIRE(eventually([&] { return times_logged(node, compacted) == 2U; }, 100, 100ms),
                       node.berthd->err());
    const auto [status, mine] = metadata(url);
    BOOST_TEST_REQUIRE(status == 200, mine.dump());
    BOOST_TEST(mine["KnownStatus"] == "STOPPED", mine.dump());
    for (const auto* key : {"DockerId", "ImageID", "CreatedAt", "StartedAt"})
        BOOST_TEST(mine.value(key, json()) == live.value(key, json()), key << ": " << mine.dump());
    // The restore wrote each record again, unchanged but for its version: once as it resumed
    // the task, and once more if another engine call came before the task was compact again
    // (seen in a run beside four builds: how the calls interleave is the machine's timing).
    std::vector<json> restored;
    for (std::size_t i = 0; i < arns.size(); ++i) {
        restored.push_back(node.describe(arns[i]));
        const auto version = restored[i]["version"].get<int>() - stopped[i]["version"].get<int>();
        BOOST_TEST((version == 1 || version == 2), version << " more writes");
        BOOST_TEST(restored[i] == written_again(stopped[i], version),
                   "now " << restored[i].dump() << "\nbefore the restart " << stopped[i].dump());
    }

    expect_every_trace_gone(node, 2);
    for (std::size_t i = 0; i < arns.size(); ++i) // and the cleanup once
        BOOST_TEST(node.describe(arns[i]) == written_again(restored[i]),
                   node.describe(arns[i]).dump());
}

BOOST_AUTO_TEST_SUITE_END()
