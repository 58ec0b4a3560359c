#define BOOST_TEST_MODULE daemon_faults
// berthd when things fail, as a child process in the namespaces this test made (never the
// host's): a static host port already taken (the task STOPPED naming the port, its network and
// reservation released), a container killed for memory (OutOfMemoryError, exit 137),
// berth-supervisor SIGKILLed under running containers (respawned, exits still reported),
// two concurrent supervisor starts (exactly one supervisor), RunTask's clientToken (same
// answer, ConflictException, kept over a restart), a store another writer holds (RunTask
// refused with nothing made, a stop still carried out and written later), berthd SIGTERMed
// while a task is being created (finished or stopped after the restart, nothing leaked), a
// live container no task owns (removed at restart), a container whose lock a runtime verb
// holds at restart (its rootfs kept, its task running on), a cleanup cut short by a crash
// resumed at restart, a container that cannot start (no rootfs or lease left), and berthd
// SIGKILLed mid-create (the task finished or stopped, nothing half-made left). Only processes this
// test started are killed, by pid.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <future>
#include "agent/daemon/pure.hpp"
#include "tests/root/daemon_support.hpp"

using namespace berth;
using namespace berth::test;
using namespace berth::test::daemon;

namespace {

json shell_definition(const std::string& family, const std::string& script, int memory)
{
    return {{"family", family},
            {"networkMode", "bridge"},
            {"containerDefinitions",
             {{{"name", "main"},
               {"image", "berth.local/hello:latest"},
               {"memory", memory},
               {"entryPoint", {"/bin/sh", "-c"}},
               {"command", {script}}}}}};
}

// Live berth-supervisor processes serving this socket (their command line names it).
std::vector<pid_t> supervisors_of(const std::string& socket)
{
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& p : fs::directory_iterator("/proc", ec)) {
        const auto name = p.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        auto cmdline = read_all(p.path().string() + "/cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        if (cmdline.find("berth-supervisor") != std::string::npos &&
            cmdline.find(socket) != std::string::npos &&
            read_all(p.path().string() + "/stat").find(") Z") == std::string::npos)
            out.push_back(static_cast<pid_t>(std::stoi(name)));
    }
    return out;
}

// One API call over berthd's root-only unix socket (no SigV4): HTTP status and body. The
// aws CLI of Debian 12 predates RunTask's clientToken, so it cannot send one.
std::pair<int, std::string> call(const Node& node, const std::string& operation, const json& body)
{
    const auto out = run_command({"curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time",
                                  "60", "--unix-socket", node.run + "/berthd.sock", "-H",
                                  "Content-Type: application/x-amz-json-1.1", "-H",
                                  "X-Amz-Target: AmazonEC2ContainerServiceV20141113." + operation,
                                  "--data-binary", body.dump(), "http://localhost/"},
                                 70s);
    const auto newline = out.out.rfind('\n');
    if (newline == std::string::npos)
        return {0, out.out + out.err};
    return {static_cast<int>(std::strtol(out.out.c_str() + newline + 1, nullptr, 10)),
            out.out.substr(0, newline)};
}

// Entries of a directory (0 when it is missing).
std::size_t entries(const std::string& dir)
{
    std::error_code ec;
    std::size_t n = 0;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
        ++n;
    return n;
}

// Nothing of any container left: runtime state, rootfs (overlay dir of the image store),
// bundle; no image lease; and the leak probes of left_behind() (mounts, netns, cgroups).
void expect_no_container_left(const Node& node)
{
    node.expect_nothing_left();
    for (const auto& dir :
         {node.run + "/containers", node.state + "/images/containers", node.run + "/bundles"})
        BOOST_TEST(eventually([&] { return entries(dir) == 0; }, 50, 100ms), dir);
    node.expect_no_image_leases();
}

pid_t recorded_supervisor(const Node& node)
{
    const auto text = read_all(node.run + "/supervisor.pid");
    char* end = nullptr;
    const long pid = std::strtol(text.c_str(), &end, 10);
    return end != text.c_str() ? static_cast<pid_t>(pid) : -1;
}

} // namespace

BOOST_AUTO_TEST_SUITE(berthd_faults, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(a_static_host_port_already_taken_stops_the_task_naming_the_port)
{
    Node node;
    // Someone else's listener on the port, in the namespace berthd serves.
    Fd taken(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(18777);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockaddr API
    BOOST_TEST_REQUIRE(::bind(taken.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) ==
                       0);
    BOOST_TEST_REQUIRE(::listen(taken.get(), 1) == 0);
    auto def = hello_definition("fixed");
    def["containerDefinitions"][0]["portMappings"][0]["hostPort"] = 18777;
    node.register_definition(def);
    const auto stopped = node.wait_status(node.run_task("fixed"), "STOPPED");
    BOOST_TEST(stopped["stopCode"] == "TaskFailedToStart", stopped.dump());
    BOOST_TEST(std::string(stopped["stoppedReason"]).find("18777") != std::string::npos,
               stopped.dump());
    node.expect_nothing_left();

    // The failed Provision released the task's reservation of the port: once the port is free
    // the same task is admitted and runs.
    taken.reset();
    const auto second = node.run_task("fixed");
    const auto running = node.wait_status(second, "RUNNING");
    BOOST_TEST(host_port(running) == 18777, running.dump());
    node.stop_task(second);
    node.expect_nothing_left();
}

BOOST_AUTO_TEST_CASE(a_container_killed_for_memory_says_out_of_memory_with_exit_137)
{
    Node node;
    // Doubles a shell string until the 16 MiB limit kills it.
    node.register_definition(
        shell_definition("hog", "x=0123456789abcdef; while true; do x=$x$x; done", 16));
    const auto stopped = node.wait_status(node.run_task("hog"), "STOPPED");
    const auto& c = stopped["containers"][0];
    BOOST_TEST(c.value("exitCode", 0) == 137, stopped.dump());
    BOOST_TEST(c.value("reason", "") == "OutOfMemoryError: Container killed due to memory usage",
               stopped.dump());
    BOOST_TEST(stopped["stopCode"] == "EssentialContainerExited", stopped.dump());
    node.expect_nothing_left();
}

BOOST_AUTO_TEST_CASE(a_killed_supervisor_is_respawned_and_exit_codes_are_still_reported)
{
    Node node;
    const auto arn = node.run_hello_running();
    const int port = host_port(node.describe(arn));
    const pid_t first = recorded_supervisor(node);
    BOOST_TEST_REQUIRE(first > 0);
    BOOST_TEST_REQUIRE(::kill(first, SIGKILL) == 0);

    const bool respawned = eventually(
        [&] {
            const pid_t second = recorded_supervisor(node);
            return second > 0 && second != first;
        },
        100, 100ms);
    BOOST_TEST_REQUIRE(respawned, "no new berth-supervisor was started");
    // The killed one may linger as a zombie for a moment.
    BOOST_TEST(eventually(
        [&] { return supervisors_of(node.run + "/supervisor.sock").size() == 1U; }, 50, 100ms));
    BOOST_TEST(fetch(page_url(port)).status == 0);
    BOOST_TEST(node.describe(arn)["lastStatus"] == "RUNNING");

    const auto stopped = node.stop_task(arn);
    // Re-adopted: the new supervisor saw it end but is not its parent, and the reason says so.
    BOOST_TEST(stopped["containers"][0].value("exitCode", 0) == 137, stopped.dump());
    BOOST_TEST(stopped["containers"][0].value("reason", "") ==
                   "exit status unknown (its supervisor was restarted)",
               stopped.dump());
    node.expect_nothing_left();
}

BOOST_AUTO_TEST_CASE(two_concurrent_supervisor_starts_leave_exactly_one_supervisor)
{
    TempDir dir{"berth-supervisor-lock"};
    berth::daemon::Options options;
    options.supervisor_binary =
        env_or("BERTH_BUILD_ROOT", "build") + std::string("/runtime/cli/berth-supervisor");
    BOOST_TEST_REQUIRE(fs::exists(options.supervisor_binary), options.supervisor_binary);
    std::promise<void> go;
    auto gate = go.get_future().share();
    auto ensure = [&] {
        gate.wait();
        return berth::daemon::ensure_supervisor_in(options, dir.path());
    };
    auto a = std::async(std::launch::async, ensure);
    auto b = std::async(std::launch::async, ensure);
    go.set_value();
    const auto ra = a.get();
    const auto rb = b.get();
    BOOST_TEST(ra.has_value(), (ra ? "" : ra.error().message()));
    BOOST_TEST(rb.has_value(), (rb ? "" : rb.error().message()));
    const auto live = supervisors_of(dir.path() + "/supervisor.sock");
    BOOST_TEST(live.size() == 1U);
    for (const auto pid : live)
        ::kill(pid, SIGKILL); // ours: it serves this test's socket
}

BOOST_AUTO_TEST_CASE(run_task_with_a_client_token_is_idempotent_across_a_restart)
{
    Node node;
    node.register_definition(hello_definition());
    const json once = {{"taskDefinition", "hello"}, {"clientToken", "t-1"}};
    const auto first = call(node, "RunTask", once);
    BOOST_TEST_REQUIRE(first.first == 200, first.second);
    const auto tasks = json::parse(first.second)["tasks"];
    BOOST_TEST_REQUIRE(tasks.size() == 1U, first.second);
    const std::string arn = tasks[0]["taskArn"];
    const auto retry = call(node, "RunTask", once);
    BOOST_TEST_REQUIRE(retry.first == 200, retry.second);
    BOOST_TEST(json::parse(retry.second)["tasks"][0]["taskArn"] == arn, retry.second);
    auto other = once;
    other["count"] = 2;
    const auto conflict = call(node, "RunTask", other);
    BOOST_TEST(conflict.first == 400);
    BOOST_TEST(conflict.second.find("ConflictException") != std::string::npos, conflict.second);
    auto bad = once;
    bad["clientToken"] = std::string(65, 'x');
    const auto refused = call(node, "RunTask", bad);
    BOOST_TEST(refused.first == 400);
    BOOST_TEST(refused.second.find("clientToken") != std::string::npos, refused.second);
    BOOST_TEST(node.ok({"list-tasks"})["taskArns"].size() == 1U);

    node.stop();
    node.start();
    const auto after = call(node, "RunTask", once);
    BOOST_TEST_REQUIRE(after.first == 200, after.second);
    BOOST_TEST(json::parse(after.second)["tasks"][0]["taskArn"] == arn, after.second);
    BOOST_TEST(node.ok({"list-tasks"})["taskArns"].size() == 1U);
    node.stop_task(arn);
    node.expect_nothing_left();
}

BOOST_AUTO_TEST_CASE(a_store_that_cannot_be_written_refuses_run_task_and_loses_nothing)
{
    Node node;
    const auto arn = node.run_hello_running();
    {
        // Another writer holds the database (berthd waits 5 s for it, then fails the write).
        auto holder = Command::start(
            {"python3", "-c",
             "import sqlite3, sys, time\n"
             "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
             "c.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(60)\n",
             node.state + "/berth.db"});
        const auto locked = [&] { return holder.out().find("locked") != std::string::npos; };
        BOOST_TEST_REQUIRE(eventually(locked, 100, 50ms), holder.err());
        const auto refused = node.aws({"run-task", "--task-definition", "hello", "--count", "2"});
        BOOST_TEST(refused.status != 0);
        BOOST_TEST(refused.err.find("store") != std::string::npos, refused.err);
        // A running task's stop goes on although its state cannot be written now.
        node.ok({"stop-task", "--task", arn, "--reason", "stopped while the store was locked"});
        ::kill(holder.pid(), SIGKILL);
        (void)holder.wait(10s);
    }
    // Nothing of the refused call was made or recorded; the stop was written once it could be.
    const auto stopped = node.wait_status(arn, "STOPPED");
    BOOST_TEST(stopped["stoppedReason"] == "stopped while the store was locked", stopped.dump());
    const auto listed = node.ok({"list-tasks", "--desired-status", "STOPPED"});
    BOOST_TEST(listed["taskArns"].size() == 1U, listed.dump());
    BOOST_TEST(node.ok({"list-tasks"})["taskArns"].empty());
    node.expect_nothing_left();
    std::error_code ec;
    BOOST_TEST(fs::is_empty(node.run + "/containers", ec));
    const auto next = node.run_task("hello");
    node.wait_status(next, "RUNNING");
    node.stop_task(next);
}

BOOST_AUTO_TEST_CASE(a_stopped_task_whose_cleanup_a_crash_cut_short_is_removed_after_restart)
{
    Node node;
    node.stop();
    // The wait runs from STOPPED, and seeing STOPPED takes aws calls: times the time scale.
    node.extra_env = {cat("ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=", 3 * time_scale(), "s")};
    node.start();
    const auto arn = node.run_hello_running();
    node.stop_task(arn);
    ::kill(node.berthd->pid(), SIGKILL); // before its cleanup
    (void)node.berthd->wait(20s);
    node.berthd.reset();
    std::this_thread::sleep_for(scaled(3500ms)); // its wait is over while berthd is down
    BOOST_TEST(!node.mounts_of_ours().empty());  // its rootfs is still there
    node.start();
    node.expect_nothing_left();
    std::error_code ec;
    BOOST_TEST(fs::is_empty(node.run + "/containers", ec));
    BOOST_TEST(node.describe(arn)["lastStatus"] == "STOPPED");
}

BOOST_AUTO_TEST_CASE(berthd_stopped_while_a_task_is_being_created_settles_it_after_restart)
{
    Node node;
    node.register_definition(hello_definition());
    // SIGTERM right after RunTask answers: the task is being provisioned, pulled or created.
    const auto arn = node.run_task("hello");
    node.stop();
    node.start();
    const auto task = settled(node, arn);
    if (task["lastStatus"] == "RUNNING") {
        BOOST_TEST(fetch(page_url(host_port(task))).status == 0);
        BOOST_TEST(node.mounts_of_ours().find("overlay") != std::string::npos); // rootfs kept
        node.stop_task(arn);
    } else {
        BOOST_TEST_REQUIRE(task["lastStatus"] == "STOPPED", task.dump());
        BOOST_TEST(!std::string(task.value("stoppedReason", "")).empty(), task.dump());
    }
    node.expect_nothing_left();
    std::error_code ec;
    BOOST_TEST(fs::is_empty(node.run + "/containers", ec));
}

BOOST_AUTO_TEST_CASE(a_live_container_no_task_owns_is_removed_at_restart)
{
    Node node;
    node.stop();
    // A container under berthd's runtime root that no task records (as a create whose task was
    // never written would leave): made with berth-runtime while berthd is down.
    Bundle bundle;
    bundle.set_args({"/bin/sleep", "1000"});
    bundle.config["linux"]["cgroupsPath"] = "stray-1"; // under berthd's cgroup root, like its own
    bundle.write();
    const auto runtime =
        env_or("BERTH_BUILD_ROOT", "build") + std::string("/runtime/cli/berth-runtime");
    const auto root = node.run + "/containers";
    const auto made = run_command({runtime, "--root", root, "--cgroup-root", cgroup_root(), "run",
                                   "-d", "--bundle", bundle.dir(), "stray-1"},
                                  30s);
    BOOST_TEST_REQUIRE(made.status == 0, made.err);
    BOOST_TEST_REQUIRE(run_command({runtime, "--root", root, "state", "stray-1"}).status == 0);
    node.start();
    BOOST_TEST(eventually(
        [&] {
            return run_command({runtime, "--root", root, "state", "stray-1"}).status != 0;
        },
        100, 100ms));
    BOOST_TEST(!cgroup_exists(cgroup_root() + "/stray-1"));
}

BOOST_AUTO_TEST_CASE(a_container_busy_in_the_runtime_at_restart_keeps_its_rootfs_and_runs_on)
{
    Node node;
    const auto arn = node.run_hello_running();
    const int port = host_port(node.describe(arn));
    node.stop();
    {
        // As a berth-runtime kill/pause/resume in flight would: the container's lock is held
        // while berthd restarts, so recover() lists it neither live nor ended.
        const auto dir = node.run + "/containers/" + berth::daemon::runtime_id_of(arn, "web");
        const Fd locked(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        BOOST_TEST_REQUIRE(locked.valid());
        BOOST_TEST_REQUIRE(::flock(locked.get(), LOCK_EX) == 0);
        node.start(); // restore has run once berthd is ready
        BOOST_TEST(node.mounts_of_ours().find("overlay") != std::string::npos); // rootfs kept
        BOOST_TEST(fetch(page_url(port)).status == 0);
    }
    BOOST_TEST(node.describe(arn)["lastStatus"] == "RUNNING");
    node.stop_task(arn);
    node.expect_nothing_left();
}

// Issue 17: a container whose start fails (its entryPoint is not in the image) stops its task
// saying why, and the task's cleanup leaves no rootfs snapshot, overlay mount, bundle, runtime
// state or image lease behind; the image is still usable.
BOOST_AUTO_TEST_CASE(a_container_that_cannot_start_leaves_no_rootfs_or_image_lease_behind)
{
    Node node;
    auto def = shell_definition("noexec", "", 32);
    auto& container = def["containerDefinitions"][0];
    container["entryPoint"] = {"/no/such/program"};
    container.erase("command");
    node.register_definition(def);
    const auto stopped = node.wait_status(node.run_task("noexec"), "STOPPED");
    BOOST_TEST(stopped["stopCode"] == "TaskFailedToStart", stopped.dump());
    const std::string reason = stopped["containers"][0].value("reason", "");
    BOOST_TEST((reason.find("CannotCreateContainerError") == 0U ||
                reason.find("CannotStartContainerError") == 0U),
               stopped.dump());
    BOOST_TEST(reason.find("/no/such/program") != std::string::npos, stopped.dump());
    BOOST_TEST(!std::string(stopped.value("stoppedReason", "")).empty(), stopped.dump());
    expect_no_container_left(node); // after the cleanup wait (1 s)

    const auto arn = node.run_hello_running(); // same image, nothing stale in its way
    node.stop_task(arn);
    expect_no_container_left(node);
}

// Issue 17: berthd SIGKILLed while a task of six containers is between PENDING and RUNNING
// (the moment its first, third, fifth container's runtime state appears): after the restart the
// task runs with all six or is cleanly STOPPED, and once it is stopped nothing half-made is left
// (runtime state, rootfs, bundle, lease, mount, netns, cgroup); then a new task runs.
BOOST_AUTO_TEST_CASE(berthd_sigkilled_mid_create_finishes_or_stops_the_task_and_leaks_nothing)
{
    Node node;
    const std::string idle = "trap 'exit 0' TERM; while true; do sleep 0.2; done";
    json def = {
        {"family", "six"}, {"networkMode", "bridge"}, {"containerDefinitions", json::array()}};
    for (int i = 0; i < 6; ++i)
        def["containerDefinitions"].push_back({{"name", "c" + std::to_string(i)},
                                               {"image", "berth.local/hello:latest"},
                                               {"memory", 16},
                                               {"entryPoint", {"/bin/sh", "-c"}},
                                               {"command", {idle}}});
    node.register_definition(def);
    const auto containers = node.run + "/containers";
    for (const std::size_t made : {1U, 3U, 5U}) {
        // Watched while the aws CLI is still at it: berthd creates once it has answered.
        auto ran = std::async(std::launch::async, [&node] {
            return node.aws({"run-task", "--task-definition", "six"});
        });
        std::size_t at_kill = 0;
        BOOST_TEST_REQUIRE(
            eventually([&] { return (at_kill = entries(containers)) >= made; }, 20000, 1ms));
        ::kill(node.berthd->pid(), SIGKILL);
        (void)node.berthd->wait(20s);
        node.berthd.reset();
        const auto answer = ran.get();
        BOOST_TEST_REQUIRE(answer.status == 0, answer.err);
        const std::string arn = json::parse(answer.out)["tasks"][0]["taskArn"];
        BOOST_TEST_MESSAGE("berthd killed with " << at_kill << " of 6 containers under way");
        if (made == 1U)
            BOOST_TEST(at_kill < 6U); // caught mid-create, not after it

        node.start();
        const auto task = settled(node, arn);
        if (task["lastStatus"] == "RUNNING") {
            for (const auto& c : task["containers"])
                BOOST_TEST(c["lastStatus"] == "RUNNING", task.dump());
            node.stop_task(arn);
        } else {
            BOOST_TEST_REQUIRE(task["lastStatus"] == "STOPPED", task.dump());
            BOOST_TEST(!std::string(task.value("stoppedReason", "")).empty(), task.dump());
        }
        expect_no_container_left(node);
    }
    const auto arn = node.run_hello_running();
    node.stop_task(arn);
    expect_no_container_left(node);
}

BOOST_AUTO_TEST_SUITE_END()
