#define BOOST_TEST_MODULE daemon_lifecycle
// berthd's systemd side, as a child process inside the network and mount namespaces this test
// made: SIGHUP reloads the configuration file (live keys applied, the others reported as needing
// a restart, a malformed file refused with berthd running on), and with
// BERTH_STOP_TASKS_ON_SHUTDOWN=true SIGTERM stops and cleans up every task before berthd exits.
// (The watchdog and the journal need systemd as PID 1: tests/vm/systemd_berthd.sh.) Only
// processes this test started are killed, by pid.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include "base/fd.hpp"
#include "base/files.hpp"
#include "image/image.hpp"
#include "tests/support/bundle.hpp"
#include "tests/support/namespaces.hpp"
#include "tests/support/privileges.hpp"
#include "tests/support/process.hpp"

using namespace berth;
using namespace berth::test;
using nlohmann::json;
namespace fs = std::filesystem;
namespace utf = boost::unit_test;

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespacesAndTmp);

namespace {

constexpr const char* key_id = "AKIDDAEMONTEST";
constexpr const char* secret = "daemon-test-secret";

std::string env_or(const char* name, const char* fallback)
{
    const char* v = std::getenv(name); // NOLINT(concurrency-mt-unsafe): read before threads
    return v ? v : fallback;
}

std::string read_all(const std::string& path)
{
    auto text = berth::read_file(path);
    return text ? *text : std::string();
}

std::string cgroup_root()
{
    return "/berth-lifecycle-test-" + std::to_string(::getpid());
}

// The cgroup directories of cgroup_root() in every v1 hierarchy and the unified one.
std::vector<std::string> cgroup_dirs()
{
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec))
        if (fs::exists(h.path().string() + cgroup_root()))
            out.push_back(h.path().string() + cgroup_root());
    return out;
}

struct Node {
    TempDir dir{"berth-lifecycle"};
    std::string state = dir.path() + "/state", run = dir.path() + "/run";
    std::string endpoint = "http://127.0.0.1:18690";
    std::optional<Command> berthd;

    Node()
    {
        fs::create_directories(state + "/images");
        std::ofstream(dir.path() + "/berth.conf") << "# defaults, and the environment below\n";
        // Built once per test process (the private /tmp goes with it).
        const std::string archive = "/tmp/berth-daemon-test-hello.tar";
        if (!fs::exists(archive)) {
            auto built = run_command(
                {"bash", env_or("BERTH_SOURCE_ROOT", ".") + "/examples/hello/build.sh", archive},
                120s);
            BOOST_TEST_REQUIRE(built.status == 0, built.err);
        }
        auto images = image::Store::open(state + "/images");
        BOOST_TEST_REQUIRE(images.has_value());
        const Fd in(::open(archive.c_str(), O_RDONLY | O_CLOEXEC));
        BOOST_TEST_REQUIRE(images->load(in.get()).has_value());
        start();
    }
    ~Node()
    {
        stop();
        const auto pid_text = read_all(run + "/supervisor.pid");
        char* end = nullptr;
        const long pid = std::strtol(pid_text.c_str(), &end, 10);
        if (end != pid_text.c_str() && pid > 0)
            ::kill(static_cast<pid_t>(pid), SIGKILL); // the supervisor berthd spawned for this test
        // Anything still mounted under our dirs (a failed test) goes with the mount namespace;
        // the cgroups must go explicitly.
        for (const auto& d : cgroup_dirs()) {
            std::error_code ec;
            for (const auto& child : fs::directory_iterator(d, ec))
                if (child.is_directory())
                    ::rmdir(child.path().c_str());
            ::rmdir(d.c_str());
        }
    }
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    void start()
    {
        berthd.emplace(Command::start(
            // berthd refuses BERTH_* variables it does not know: meson's are not for it.
            {"env",
             "-u",
             "BERTH_BUILD_ROOT",
             "-u",
             "BERTH_SOURCE_ROOT",
             "BERTH_API_ACCESS_KEY_ID=" + std::string(key_id),
             "BERTH_API_SECRET_ACCESS_KEY=" + std::string(secret),
             "ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=1s",
             "ECS_CONTAINER_STOP_TIMEOUT=2s",
             "BERTH_CGROUP_ROOT=" + cgroup_root(),
             "BERTH_SUBNET=10.213.78.0/24",
             env_or("BERTH_BUILD_ROOT", "build") + "/agent/berthd/berthd",
             "--config",
             dir.path() + "/berth.conf",
             "--state-dir",
             state,
             "--runtime-dir",
             run,
             "--api-listen",
             "127.0.0.1:18690"}));
        for (int i = 0; i < 200 && berthd->err().find("berthd ready") == std::string::npos; ++i)
            std::this_thread::sleep_for(50ms);
        BOOST_TEST_REQUIRE(berthd->err().find("berthd ready") != std::string::npos, berthd->err());
    }
    void stop()
    {
        if (!berthd)
            return;
        ::kill(berthd->pid(), SIGTERM);
        const auto out = berthd->wait(20s);
        BOOST_TEST(out.status == 0, "berthd exit status " << out.status << ": " << out.err);
        berthd.reset();
    }

    Output aws(std::vector<std::string> args) const
    {
        std::vector<std::string> argv = {"env",
                                         "-u",
                                         "AWS_SESSION_TOKEN",
                                         "-u",
                                         "AWS_PROFILE",
                                         std::string("AWS_ACCESS_KEY_ID=") + key_id,
                                         std::string("AWS_SECRET_ACCESS_KEY=") + secret,
                                         "AWS_CONFIG_FILE=/nonexistent",
                                         "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
                                         "AWS_MAX_ATTEMPTS=1",
                                         "AWS_PAGER=",
                                         "AWS_EC2_METADATA_DISABLED=true",
                                         "/usr/bin/aws",
                                         "ecs"};
        argv.insert(argv.end(), args.begin(), args.end());
        for (const auto& tail :
             {std::string("--endpoint-url"), endpoint, std::string("--region"),
              std::string("us-east-1"), std::string("--output"), std::string("json")})
            argv.push_back(tail);
        return run_command(argv, 60s);
    }
    json ok(std::vector<std::string> args) const
    {
        const auto out = aws(std::move(args));
        BOOST_TEST_REQUIRE(out.status == 0, out.err);
        return json::parse(out.out);
    }
    void register_definition(const json& definition) const
    {
        const auto path = dir.path() + "/td.json";
        std::ofstream(path) << definition.dump();
        ok({"register-task-definition", "--cli-input-json", "file://" + path});
    }
    json describe(const std::string& arn) const
    {
        const auto out = ok({"describe-tasks", "--tasks", arn});
        BOOST_TEST_REQUIRE(out["tasks"].size() == 1U, out.dump());
        return out["tasks"][0];
    }
    json wait_status(const std::string& arn, const std::string& status) const
    {
        json task;
        for (int i = 0; i < 60; ++i) {
            task = describe(arn);
            if (task["lastStatus"] == status)
                return task;
            std::this_thread::sleep_for(500ms);
        }
        BOOST_TEST_REQUIRE(task["lastStatus"] == status, task.dump());
        return task;
    }
    std::string mounts_of_ours() const
    {
        std::string out;
        std::istringstream lines(read_all("/proc/self/mountinfo"));
        for (std::string line; std::getline(lines, line);)
            if (line.find(dir.path()) != std::string::npos)
                out += line + "\n";
        return out;
    }
};

json hello_definition()
{
    return {{"family", "hello"},
            {"networkMode", "bridge"},
            {"containerDefinitions",
             {{{"name", "web"},
               {"image", "berth.local/hello:latest"},
               {"memory", 64},
               {"command", {"/bin/httpd", "-f", "-p", "80", "-h", "/www"}},
               {"portMappings", {{{"containerPort", 80}, {"hostPort", 0}}}}}}}};
}

void write_config(const Node& node, const std::string& text)
{
    std::ofstream(node.dir.path() + "/berth.conf", std::ios::trunc) << text;
}

// berthd's log (its stderr) shows `needle` within `timeout`.
bool logged(const Node& node, std::string_view needle, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (node.berthd->err().find(needle) != std::string::npos)
            return true;
        std::this_thread::sleep_for(20ms);
    }
    return node.berthd->err().find(needle) != std::string::npos;
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
    Node node;
    write_config(node, "ECS_LOGLEVEL=info\nECS_CLUSTER=default\n");
    ::kill(node.berthd->pid(), SIGHUP);
    BOOST_TEST_REQUIRE(logged(node, "configuration reloaded", 10s), node.berthd->err());
    BOOST_TEST(node.berthd->err().find("applied= needs_restart=\n") != std::string::npos,
               node.berthd->err());

    write_config(node, "ECS_LOGLEVEL=debug\nECS_CLUSTER=elsewhere\n");
    ::kill(node.berthd->pid(), SIGHUP);
    BOOST_TEST_REQUIRE(logged(node, "applied=ECS_LOGLEVEL needs_restart=ECS_CLUSTER", 10s),
                       node.berthd->err());
    BOOST_TEST(node.berthd->err().find("key=ECS_CLUSTER") != std::string::npos);
    // The new level is in force: a task's container status lines are debug lines.
    node.register_definition(hello_definition());
    const auto ran = node.ok({"run-task", "--task-definition", "hello"});
    const std::string arn = ran["tasks"][0]["taskArn"];
    node.wait_status(arn, "RUNNING");
    BOOST_TEST(logged(node, "level=debug msg=\"container status\"", 10s), node.berthd->err());
    // ECS_CLUSTER needs a restart: the API still serves the cluster berthd started with.
    BOOST_TEST(node.ok({"list-tasks"})["taskArns"].size() == 1U);

    write_config(node, "ECS_LOGLEVEL=loud\n");
    ::kill(node.berthd->pid(), SIGHUP);
    BOOST_TEST_REQUIRE(logged(node, "reload refused", 10s), node.berthd->err());
    BOOST_TEST(node.berthd->err().find("loud") != std::string::npos, node.berthd->err());
    BOOST_TEST(::kill(node.berthd->pid(), 0) == 0);
    BOOST_TEST(node.describe(arn)["lastStatus"] == "RUNNING");
    node.ok({"stop-task", "--task", arn});
    node.wait_status(arn, "STOPPED");
}

BOOST_AUTO_TEST_CASE(with_stop_tasks_on_shutdown_sigterm_stops_and_cleans_every_task_first)
{
    Node node;
    node.register_definition(hello_definition());
    const auto ran = node.ok({"run-task", "--task-definition", "hello", "--count", "2"});
    BOOST_TEST_REQUIRE(ran["tasks"].size() == 2U, ran.dump());
    std::vector<std::string> arns;
    for (const auto& t : ran["tasks"])
        arns.push_back(t["taskArn"]);
    for (const auto& arn : arns)
        node.wait_status(arn, "RUNNING");
    BOOST_TEST(runtime_list(node).find("running") != std::string::npos, runtime_list(node));
    BOOST_TEST(!node.mounts_of_ours().empty());

    // Switched on by a reload, as an operator decommissioning a node would.
    write_config(node, "BERTH_STOP_TASKS_ON_SHUTDOWN=true\n");
    ::kill(node.berthd->pid(), SIGHUP);
    BOOST_TEST_REQUIRE(logged(node, "applied=BERTH_STOP_TASKS_ON_SHUTDOWN", 10s),
                       node.berthd->err());
    ::kill(node.berthd->pid(), SIGTERM);
    const auto out = node.berthd->wait(60s);
    BOOST_TEST(out.status == 0, out.err);
    BOOST_TEST(out.err.find("every task stopped and cleaned up") != std::string::npos, out.err);
    node.berthd.reset();

    // Nothing of the tasks is left: containers, rootfs mounts, task netns, cgroups, logs.
    BOOST_TEST(runtime_list(node).find("\"id\"") == std::string::npos, runtime_list(node));
    BOOST_TEST(node.mounts_of_ours().empty(), node.mounts_of_ours());
    std::error_code ec;
    BOOST_TEST(fs::is_empty(node.run + "/net/netns", ec));
    for (const auto& d : cgroup_dirs())
        for (const auto& child : fs::directory_iterator(d, ec))
            BOOST_TEST(!child.is_directory(), child.path());
    // Each task's log directory went with its last container's logs.
    BOOST_TEST(fs::is_empty(node.state + "/logs", ec));
    // Every image lease was released before berthd exited: the drain waits for each cleanup.
    const auto images = image::Store::open(node.state + "/images");
    BOOST_TEST_REQUIRE(images.has_value());
    const auto leases = images->leases();
    BOOST_TEST_REQUIRE(leases.has_value());
    BOOST_TEST(leases->empty());

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

BOOST_AUTO_TEST_SUITE_END()
