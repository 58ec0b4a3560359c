#define BOOST_TEST_MODULE daemon_faults
// berthd when things fail, as a child process in the namespaces this test made (never the
// host's): a static host port already taken (the task STOPPED naming the port, its network and
// reservation released), a container killed for memory (OutOfMemoryError, exit 137),
// berth-supervisor SIGKILLed under running containers (respawned, exits still reported),
// two concurrent supervisor starts (exactly one supervisor), RunTask's clientToken (same
// answer, ConflictException, kept over a restart), a store that cannot be written (RunTask
// refused, nothing made), and a cleanup cut short by a crash resumed at restart. Only
// processes this test started are killed, by pid.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <future>
#include "agent/daemon/internal.hpp"
#include "tests/root/daemon_support.hpp"

using namespace berth;
using namespace berth::test;
using namespace berth::test::daemon;
using nlohmann::json;
namespace fs = std::filesystem;
namespace utf = boost::unit_test;

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespacesAndTmp);

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
    auto def = hello_definition("fixed", "berth.local/hello:latest");
    def["containerDefinitions"][0]["portMappings"][0]["hostPort"] = 18777;
    node.register_definition(def);
    const auto ran = node.ok({"run-task", "--task-definition", "fixed"});
    BOOST_TEST_REQUIRE(ran["tasks"].size() == 1U, ran.dump());
    const std::string arn = ran["tasks"][0]["taskArn"];
    const auto stopped = node.wait_status(arn, "STOPPED");
    BOOST_TEST(stopped["stopCode"] == "TaskFailedToStart", stopped.dump());
    BOOST_TEST(std::string(stopped["stoppedReason"]).find("18777") != std::string::npos,
               stopped.dump());
    const auto left = node.wait_nothing_left();
    BOOST_TEST(left.empty(), left);

    // The failed Provision released the task's reservation of the port: once the port is free
    // the same task is admitted and runs.
    taken.reset();
    const auto again = node.ok({"run-task", "--task-definition", "fixed"});
    BOOST_TEST_REQUIRE(again["tasks"].size() == 1U, again.dump());
    const std::string second = again["tasks"][0]["taskArn"];
    const auto running = node.wait_status(second, "RUNNING");
    BOOST_TEST(running["containers"][0]["networkBindings"][0]["hostPort"] == 18777,
               running.dump());
    node.ok({"stop-task", "--task", second});
    node.wait_status(second, "STOPPED");
    const auto after = node.wait_nothing_left();
    BOOST_TEST(after.empty(), after);
}

BOOST_AUTO_TEST_CASE(a_container_killed_for_memory_says_out_of_memory_with_exit_137)
{
    Node node;
    // Doubles a shell string until the 16 MiB limit kills it.
    node.register_definition(
        shell_definition("hog", "x=0123456789abcdef; while true; do x=$x$x; done", 16));
    const auto ran = node.ok({"run-task", "--task-definition", "hog"});
    const std::string arn = ran["tasks"][0]["taskArn"];
    const auto stopped = node.wait_status(arn, "STOPPED");
    const auto& c = stopped["containers"][0];
    BOOST_TEST(c.value("exitCode", 0) == 137, stopped.dump());
    BOOST_TEST(c.value("reason", "") == "OutOfMemoryError: Container killed due to memory usage",
               stopped.dump());
    BOOST_TEST(stopped["stopCode"] == "EssentialContainerExited", stopped.dump());
    const auto left = node.wait_nothing_left();
    BOOST_TEST(left.empty(), left);
}

BOOST_AUTO_TEST_CASE(a_killed_supervisor_is_respawned_and_exit_codes_are_still_reported)
{
    Node node;
    node.register_definition(hello_definition("hello", "berth.local/hello:latest"));
    const auto ran = node.ok({"run-task", "--task-definition", "hello"});
    const std::string arn = ran["tasks"][0]["taskArn"];
    const auto task = node.wait_status(arn, "RUNNING");
    const int port = task["containers"][0]["networkBindings"][0]["hostPort"];
    const pid_t first = recorded_supervisor(node);
    BOOST_TEST_REQUIRE(first > 0);
    BOOST_TEST_REQUIRE(::kill(first, SIGKILL) == 0);

    pid_t second = -1;
    for (int i = 0; i < 100 && (second <= 0 || second == first); ++i) {
        std::this_thread::sleep_for(100ms);
        second = recorded_supervisor(node);
    }
    BOOST_TEST_REQUIRE(second != first, "no new berth-supervisor was started");
    std::vector<pid_t> live;
    for (int i = 0; i < 50; ++i) { // the killed one may linger as a zombie for a moment
        live = supervisors_of(node.run + "/supervisor.sock");
        if (live.size() == 1U)
            break;
        std::this_thread::sleep_for(100ms);
    }
    BOOST_TEST(live.size() == 1U);
    BOOST_TEST(fetch("http://127.0.0.1:" + std::to_string(port) + "/").status == 0);
    BOOST_TEST(node.describe(arn)["lastStatus"] == "RUNNING");

    node.ok({"stop-task", "--task", arn});
    const auto stopped = node.wait_status(arn, "STOPPED");
    BOOST_TEST(stopped["containers"][0].contains("exitCode"), stopped.dump());
    const auto left = node.wait_nothing_left();
    BOOST_TEST(left.empty(), left);
}

BOOST_AUTO_TEST_CASE(two_concurrent_supervisor_starts_leave_exactly_one_supervisor)
{
    TempDir dir{"berth-supervisor-lock"};
    berth::daemon::Options options;
    options.supervisor_binary =
        env_or("BERTH_BUILD_ROOT", "build") + std::string("/runtime/cli/berth-supervisor");
    BOOST_TEST_REQUIRE(fs::exists(options.supervisor_binary), options.supervisor_binary);
    const berth::daemon::Paths paths{dir.path() + "/state", dir.path()};
    std::promise<void> go;
    auto gate = go.get_future().share();
    auto ensure = [&] {
        gate.wait();
        return berth::daemon::ensure_supervisor(options, paths);
    };
    auto a = std::async(std::launch::async, ensure);
    auto b = std::async(std::launch::async, ensure);
    go.set_value();
    const auto ra = a.get();
    const auto rb = b.get();
    BOOST_TEST(ra.has_value(), (ra ? "" : ra.error().message()));
    BOOST_TEST(rb.has_value(), (rb ? "" : rb.error().message()));
    const auto live = supervisors_of(paths.supervisor_socket());
    BOOST_TEST(live.size() == 1U);
    for (const auto pid : live)
        ::kill(pid, SIGKILL); // ours: it serves this test's socket
}

BOOST_AUTO_TEST_CASE(run_task_with_a_client_token_is_idempotent_across_a_restart)
{
    Node node;
    node.register_definition(hello_definition("hello", "berth.local/hello:latest"));
    const auto first = node.ok({"run-task", "--task-definition", "hello", "--client-token", "t-1"});
    BOOST_TEST_REQUIRE(first["tasks"].size() == 1U, first.dump());
    const std::string arn = first["tasks"][0]["taskArn"];
    const auto retry = node.ok({"run-task", "--task-definition", "hello", "--client-token", "t-1"});
    BOOST_TEST_REQUIRE(retry["tasks"].size() == 1U, retry.dump());
    BOOST_TEST(retry["tasks"][0]["taskArn"] == arn);
    const auto other = node.aws(
        {"run-task", "--task-definition", "hello", "--count", "2", "--client-token", "t-1"});
    BOOST_TEST(other.status != 0);
    BOOST_TEST(other.err.find("ConflictException") != std::string::npos, other.err);
    const auto bad = node.aws({"run-task", "--task-definition", "hello", "--client-token",
                               std::string(65, 'x')});
    BOOST_TEST(bad.err.find("clientToken") != std::string::npos, bad.err);
    BOOST_TEST(node.ok({"list-tasks"})["taskArns"].size() == 1U);

    node.stop();
    node.start();
    const auto after = node.ok({"run-task", "--task-definition", "hello", "--client-token", "t-1"});
    BOOST_TEST_REQUIRE(after["tasks"].size() == 1U, after.dump());
    BOOST_TEST(after["tasks"][0]["taskArn"] == arn);
    BOOST_TEST(node.ok({"list-tasks"})["taskArns"].size() == 1U);
    node.ok({"stop-task", "--task", arn});
    node.wait_status(arn, "STOPPED");
    const auto left = node.wait_nothing_left();
    BOOST_TEST(left.empty(), left);
}

BOOST_AUTO_TEST_CASE(a_store_that_cannot_be_written_refuses_run_task_and_makes_nothing)
{
    Node node;
    node.register_definition(hello_definition("hello", "berth.local/hello:latest"));
    // The state dir read-only under the running berthd (this test's mount namespace).
    BOOST_TEST_REQUIRE(::mount(node.state.c_str(), node.state.c_str(), nullptr, MS_BIND,
                               nullptr) == 0);
    BOOST_TEST_REQUIRE(::mount(nullptr, node.state.c_str(), nullptr,
                               MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) == 0);
    const auto refused = node.aws({"run-task", "--task-definition", "hello", "--count", "2"});
    BOOST_TEST(refused.status != 0);
    BOOST_TEST(refused.err.find("store") != std::string::npos, refused.err);
    std::error_code ec;
    BOOST_TEST(fs::is_empty(node.run + "/containers", ec));
    BOOST_TEST(node.mounts_of_ours().find("overlay") == std::string::npos,
               node.mounts_of_ours());
    BOOST_TEST_REQUIRE(::umount2(node.state.c_str(), 0) == 0);

    // Writable again: nothing of the refused call was recorded, and tasks run.
    BOOST_TEST(node.ok({"list-tasks"})["taskArns"].empty());
    const auto ran = node.ok({"run-task", "--task-definition", "hello"});
    BOOST_TEST_REQUIRE(ran["tasks"].size() == 1U, ran.dump());
    const std::string arn = ran["tasks"][0]["taskArn"];
    node.wait_status(arn, "RUNNING");
    node.ok({"stop-task", "--task", arn});
    node.wait_status(arn, "STOPPED");
    const auto left = node.wait_nothing_left();
    BOOST_TEST(left.empty(), left);
}

BOOST_AUTO_TEST_CASE(a_stopped_task_whose_cleanup_a_crash_cut_short_is_removed_after_restart)
{
    Node node;
    node.stop();
    node.extra_env = {"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=3s"};
    node.start();
    node.register_definition(hello_definition("hello", "berth.local/hello:latest"));
    const auto ran = node.ok({"run-task", "--task-definition", "hello"});
    const std::string arn = ran["tasks"][0]["taskArn"];
    node.wait_status(arn, "RUNNING");
    node.ok({"stop-task", "--task", arn});
    node.wait_status(arn, "STOPPED");
    ::kill(node.berthd->pid(), SIGKILL); // before its cleanup
    (void)node.berthd->wait(20s);
    node.berthd.reset();
    std::this_thread::sleep_for(3500ms);
    BOOST_TEST(!node.mounts_of_ours().empty()); // its rootfs is still there
    node.start();
    const auto left = node.wait_nothing_left();
    BOOST_TEST(left.empty(), left);
    std::error_code ec;
    BOOST_TEST(fs::is_empty(node.run + "/containers", ec));
    BOOST_TEST(node.describe(arn)["lastStatus"] == "STOPPED");
}

BOOST_AUTO_TEST_SUITE_END()
