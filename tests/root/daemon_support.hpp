// tests/root/daemon_support.hpp — what the berthd root tests share: a berthd child process in
// the namespaces the test made (Node: its own state and runtime dirs, the offline demo image
// loaded, the real aws CLI pointed at it), task definitions, and leak probes. Header-only,
// included once by each test program.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include "base/fd.hpp"
#include "base/files.hpp"
#include "base/strings.hpp"
#include "image/image.hpp"
#include "tests/support/bundle.hpp"
#include "tests/support/namespaces.hpp"
#include "tests/support/privileges.hpp"
#include "tests/support/process.hpp"

namespace utf = boost::unit_test;

// Every berthd test runs in the private network, mount and /tmp namespaces this makes (a test
// program includes this header once: one global fixture).
namespace berth::test {
BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespacesAndTmp);
} // namespace berth::test

namespace berth::test::daemon {

using nlohmann::json;
namespace fs = std::filesystem;

inline constexpr const char* key_id = "AKIDDAEMONTEST";
inline constexpr const char* secret = "daemon-test-secret";

inline std::string env_or(const char* name, const char* fallback)
{
    const char* v = std::getenv(name); // NOLINT(concurrency-mt-unsafe): read before threads
    return v ? v : fallback;
}

inline std::string read_all(const std::string& path)
{
    auto text = berth::read_file(path);
    return text ? *text : std::string();
}

// How many times longer every wait and time limit of these tests is: BERTH_TEST_TIME_SCALE, a
// whole number (default 1). The VM tier sets it: under qemu's TCG everything (berthd, the aws
// CLI's Python) runs several times slower, and the bounds are for hangs, not for speed.
inline int time_scale()
{
    static const int scale =
        std::max(1, berth::parse_int<int>(env_or("BERTH_TEST_TIME_SCALE", "1")).value_or(1));
    return scale;
}

inline std::chrono::milliseconds scaled(std::chrono::milliseconds limit)
{
    return limit * time_scale();
}

// Asks `done` every `interval`, at most `tries` times (times time_scale()) and once more at the
// end: whether it said yes. The tests wait on a real berthd this way rather than sleep a fixed
// time.
template <typename Done>
bool eventually(Done done, int tries, std::chrono::milliseconds interval)
{
    tries *= time_scale();
    for (int i = 0; i < tries; ++i) {
        if (done())
            return true;
        std::this_thread::sleep_for(interval);
    }
    return done();
}

inline json hello_definition(const std::string& family = "hello",
                             const std::string& image = "berth.local/hello:latest")
{
    return {{"family", family},
            {"networkMode", "bridge"},
            {"containerDefinitions",
             {{{"name", "web"},
               {"image", image},
               {"memory", 64},
               {"command", {"/bin/httpd", "-f", "-p", "80", "-h", "/www"}},
               {"portMappings", {{{"containerPort", 80}, {"hostPort", 0}}}}}}}};
}

// Where a Node lives: its names (temporary directory, cgroup root), API port and task subnet.
// The defaults serve daemon and daemon_faults; daemon_lifecycle names its own.
struct Site {
    std::string name = "daemon";
    int port = 18680;
    std::string subnet = "10.213.77.0/24";
};

inline std::string cgroup_root(const Site& site = {})
{
    return "/berth-" + site.name + "-test-" + std::to_string(::getpid());
}

// The cgroup directories of cgroup_root() in every v1 hierarchy and the unified one (below
// /sys/fs/cgroup/unified on hybrid hosts, /sys/fs/cgroup itself on pure v2 ones).
inline std::vector<std::string> cgroup_dirs(const Site& site = {})
{
    std::vector<std::string> out;
    std::error_code ec;
    if (fs::exists("/sys/fs/cgroup" + cgroup_root(site)))
        out.push_back("/sys/fs/cgroup" + cgroup_root(site));
    for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec))
        if (fs::exists(h.path().string() + cgroup_root(site)))
            out.push_back(h.path().string() + cgroup_root(site));
    return out;
}

// rmdir of a cgroup directory's child cgroups, deepest first (a task's cgroup holds its
// containers'), then of the directory itself.
inline void remove_cgroup_tree(const fs::path& dir)
{
    std::error_code ec;
    for (const auto& child : fs::directory_iterator(dir, ec))
        if (child.is_directory())
            remove_cgroup_tree(child.path());
    ::rmdir(dir.c_str());
}

struct Node {
    Site site;
    TempDir dir{"berth-" + site.name};
    std::string state = dir.path() + "/state", run = dir.path() + "/run";
    std::string listen = "127.0.0.1:" + std::to_string(site.port);
    std::string endpoint = "http://" + listen;
    std::optional<Command> berthd;
    std::vector<std::string> extra_env; // KEY=VALUE, after (so over) the defaults below

    explicit Node(Site where = {}) : site(std::move(where))
    {
        fs::create_directories(state + "/images");
        std::ofstream(dir.path() + "/berth.conf") << "# defaults, and the environment below\n";
        // Built once per test process (the private /tmp goes with it), unless the build made it
        // (BERTH_TEST_HELLO_ARCHIVE: the VM tier, where build.sh takes a minute under TCG).
        const std::string archive =
            env_or("BERTH_TEST_HELLO_ARCHIVE", "/tmp/berth-daemon-test-hello.tar");
        if (!fs::exists(archive)) {
            auto built = run_command(
                {"bash", env_or("BERTH_SOURCE_ROOT", ".") + "/examples/hello/build.sh", archive},
                scaled(120s));
            BOOST_TEST_REQUIRE(built.status == 0, built.err);
        }
        auto images = image::Store::open(state + "/images");
        BOOST_TEST_REQUIRE(images.has_value());
        const Fd in(::open(archive.c_str(), O_RDONLY | O_CLOEXEC));
        BOOST_TEST_REQUIRE(images->load(in.get()).has_value());
        start();
    }
    // Nothing of the agent's tasks left on the host: rootfs mounts, task netns, cgroups.
    std::string left_behind() const
    {
        std::string out = mounts_of_ours();
        std::error_code ec;
        for (const auto& n : fs::directory_iterator(run + "/net/netns", ec))
            out += "netns " + n.path().string() + "\n";
        for (const auto& d : cgroup_dirs(site))
            for (const auto& child : fs::directory_iterator(d, ec))
                if (child.is_directory())
                    out += "cgroup " + child.path().string() + "\n";
        return out;
    }
    std::string wait_nothing_left() const
    {
        std::string left;
        eventually([&] { return (left = left_behind()).empty(); }, 75, 200ms);
        return left;
    }
    void expect_nothing_left() const
    {
        const auto left = wait_nothing_left();
        BOOST_TEST(left.empty(), left);
    }
    // Every image lease released (the store opened afresh, as the next berthd would). Waited
    // for: a finished task's cleanup releases its leases after its rootfs and bundles are gone
    // (on berthd's lease strand), so an empty containers directory does not mean it ran yet.
    void expect_no_image_leases() const
    {
        const auto images = image::Store::open(state + "/images");
        BOOST_TEST_REQUIRE(images.has_value());
        std::string held;
        const bool none = eventually(
            [&] {
                held.clear();
                const auto leases = images->leases();
                if (!leases)
                    held = "cannot read the leases: " + leases.error().message();
                else
                    for (const auto& l : *leases)
                        held += " " + l.name;
                return held.empty();
            },
            50, 100ms);
        BOOST_TEST(none, "image leases still held:" << held);
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
        for (const auto& d : cgroup_dirs(site))
            remove_cgroup_tree(d);
    }
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    void start()
    {
        std::vector<std::string> argv(
            // berthd refuses BERTH_* variables it does not know: meson's are not for it.
            {"env", "-u", "BERTH_BUILD_ROOT", "-u", "BERTH_SOURCE_ROOT", "-u",
             "BERTH_TEST_TIME_SCALE", "-u", "BERTH_TEST_ECS_CLIENT", "-u",
             "BERTH_TEST_HELLO_ARCHIVE", "BERTH_API_ACCESS_KEY_ID=" + std::string(key_id),
             "BERTH_API_SECRET_ACCESS_KEY=" + std::string(secret),
             "ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=1s", "ECS_CONTAINER_STOP_TIMEOUT=2s",
             "BERTH_CGROUP_ROOT=" + cgroup_root(site), "BERTH_SUBNET=" + site.subnet});
        argv.insert(argv.end(), extra_env.begin(), extra_env.end());
        for (const auto& arg :
             {env_or("BERTH_BUILD_ROOT", "build") + "/agent/berthd/berthd", std::string("--config"),
              dir.path() + "/berth.conf", std::string("--state-dir"), state,
              std::string("--runtime-dir"), run, std::string("--api-listen"), listen})
            argv.push_back(arg);
        berthd.emplace(Command::start(argv));
        BOOST_TEST_REQUIRE(logged("berthd ready", 10s), berthd->err());
    }
    void stop()
    {
        if (!berthd)
            return;
        ::kill(berthd->pid(), SIGTERM);
        const auto out = berthd->wait(scaled(20s));
        BOOST_TEST(out.status == 0, "berthd exit status " << out.status << ": " << out.err);
        berthd.reset();
    }

    // berthd's log (its stderr) shows `needle` within `timeout` (times time_scale()).
    bool logged(std::string_view needle, std::chrono::milliseconds timeout) const
    {
        const auto has = [&] { return berthd->err().find(needle) != std::string::npos; };
        return eventually(has, static_cast<int>(timeout / 20ms), 20ms);
    }

    // `aws ecs ARGS`: the real aws CLI, or with BERTH_TEST_ECS_CLIENT=curl the same call by curl.
    Output aws(std::vector<std::string> args) const
    {
        if (env_or("BERTH_TEST_ECS_CLIENT", "aws") == "curl")
            return curl_api(args);
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
        return run_command(argv, scaled(60s));
    }
    // The ECS API call the aws CLI arguments `args` stand for (register-task-definition
    // --cli-input-json file://F, run-task, describe-tasks, stop-task ...), signed by curl's own
    // SigV4 (--aws-sigv4). The VM tier's guest uses it: there the aws CLI's Python takes about
    // 45 s a call under TCG, curl is native code. The response is the
    // API's JSON as sent (timestamps in epoch seconds, where the CLI prints dates); an HTTP error
    // is a non-zero status with the body in err.
    Output curl_api(const std::vector<std::string>& args) const
    {
        BOOST_TEST_REQUIRE(!args.empty());
        // "run-task" -> "RunTask" (upper_first) or "runTask": the CLI's words as the API's names.
        const auto camel = [](std::string_view kebab, bool upper_first) {
            std::string out;
            bool upper = upper_first;
            for (const char c : kebab) {
                if (c == '-') {
                    upper = !out.empty();
                    continue;
                }
                out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
                upper = false;
            }
            return out;
        };
        const auto operation = camel(args[0], true); // run-task: RunTask
        json body = json::object();
        for (std::size_t i = 1; i + 1 < args.size(); i += 2) {
            BOOST_TEST_REQUIRE(args[i].rfind("--", 0) == 0, "no curl form of " << args[i]);
            const auto key = camel(std::string_view(args[i]).substr(2), false); // taskDefinition
            const auto& value = args[i + 1];
            if (key == "cliInputJson") // file://PATH
                body.update(json::parse(read_all(value.substr(7))));
            else if (key == "count")
                body[key] = std::stoi(value);
            else if (key == "tasks") // a list of one in these tests
                body[key] = json::array({value});
            else
                body[key] = value;
        }
        auto out =
            run_command({"curl", "-sS", "--fail-with-body", "--max-time", "60", "--aws-sigv4",
                         "aws:amz:us-east-1:ecs", "--user", std::string(key_id) + ":" + secret,
                         "-H", "X-Amz-Target: AmazonEC2ContainerServiceV20141113." + operation,
                         "-H", "Content-Type: application/x-amz-json-1.1", "--data-binary",
                         body.dump(), endpoint + "/"},
                        scaled(60s));
        if (out.status != 0)
            out.err += out.out;
        return out;
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
        eventually([&] { return (task = describe(arn))["lastStatus"] == status; }, 60, 500ms);
        BOOST_TEST_REQUIRE(task["lastStatus"] == status, task.dump());
        return task;
    }
    // RunTask of one task of `family`: its ARN.
    std::string run_task(const std::string& family) const
    {
        const auto ran = ok({"run-task", "--task-definition", family});
        BOOST_TEST_REQUIRE(ran["tasks"].size() == 1U, ran.dump());
        return ran["tasks"][0]["taskArn"];
    }
    // The hello task registered and run: its ARN, RUNNING.
    std::string run_hello_running() const
    {
        register_definition(hello_definition());
        auto arn = run_task("hello");
        wait_status(arn, "RUNNING");
        return arn;
    }
    // `count` hello tasks (the definition registered before) run by one RunTask: their ARNs,
    // each RUNNING.
    std::vector<std::string> run_hello_tasks_running(int count) const
    {
        const auto ran =
            ok({"run-task", "--task-definition", "hello", "--count", std::to_string(count)});
        BOOST_TEST_REQUIRE(ran["tasks"].size() == static_cast<std::size_t>(count), ran.dump());
        std::vector<std::string> arns;
        for (const auto& t : ran["tasks"])
            arns.push_back(t["taskArn"]);
        for (const auto& arn : arns)
            wait_status(arn, "RUNNING");
        return arns;
    }
    // StopTask, then the task STOPPED.
    json stop_task(const std::string& arn) const
    {
        ok({"stop-task", "--task", arn});
        return wait_status(arn, "STOPPED");
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

// The host port of a RUNNING task's (first) container.
// The task once it settled: RUNNING or STOPPED, as the caller checks; the wait gives up after
// `tries` half-seconds (times time_scale()) and the task is returned as it then is.
inline json settled(const Node& node, const std::string& arn, int tries = 60)
{
    json task;
    eventually(
        [&] {
            task = node.describe(arn);
            return task["lastStatus"] == "RUNNING" || task["lastStatus"] == "STOPPED";
        },
        tries, 500ms);
    BOOST_TEST_MESSAGE("the task settled " << task["lastStatus"]);
    return task;
}

inline int host_port(const json& task)
{
    return task["containers"][0]["networkBindings"][0]["hostPort"];
}

inline std::string page_url(int port)
{
    return "http://127.0.0.1:" + std::to_string(port) + "/";
}

inline Output fetch(const std::string& url)
{
    Output o;
    eventually(
        [&] {
            return (o = run_command({"curl", "-s", "-f", "--max-time", "5", url}, 10s)).status == 0;
        },
        50, 100ms);
    return o;
}

inline std::string nft_ports()
{
    return run_command({"nft", "list", "map", "ip", "berth", "dnat_any"}).out;
}

} // namespace berth::test::daemon
