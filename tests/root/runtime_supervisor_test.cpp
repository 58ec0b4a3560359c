// tests/root/runtime_supervisor_test.cpp — agent-shaped: berth-supervisor runs beside an
// "agent" (a forked child of this test) that creates, starts, execs into, kills and reaps 100
// containers from 4 threads through handles; the agent is SIGKILLed, some containers exit while
// nobody watches, and a new agent (this process) recovers them all: live handles, the exit codes
// of those that ended, complete json-file logs.
#define BOOST_TEST_MODULE runtime_supervisor
#include <poll.h>
#include <mutex>
#include "base/files.hpp"
#include "tests/root/runtime_fixture.hpp"
#include "tests/root/supervisor_process.hpp"

using namespace berth::test;

namespace {

constexpr int container_count = 100;
constexpr int thread_count = 4;

// i % 4: 0 killed and reaped by the agent; 1 exits 42 once /go exists (after the agent died);
// 2 and 3 keep running and are re-adopted.
enum class Fate { Killed, ExitsLater, Lives };
Fate fate(int i)
{
    return i % 4 == 0 ? Fate::Killed : i % 4 == 1 ? Fate::ExitsLater : Fate::Lives;
}

struct Node {
    TempDir state{"berth-sup-state"};
    Bundle bundle; // its rootfs is shared by all containers (root.path absolute)
    rt::Options options;
    std::string prefix = "/berth-test-" + std::to_string(::getpid()) + "-sup-";
    SupervisorProcess supervisor;

    Node()
    {
        options.root = state.path() + "/root";
        options.cgroups_outside_root = true;
        options.supervisor_socket = state.path() + "/supervisor.sock";
        fs::create_directories(state.path() + "/logs");
        fs::create_directories(state.path() + "/bundles");
    }
    ~Node()
    {
        supervisor.kill(); // before the cgroups go
        for (int i = 0; i < container_count; ++i)
            berth::test::destroy_test_cgroup(prefix + std::to_string(i));
    }
    std::string id(int i) const { return "c" + std::to_string(i); }
    std::string log(int i) const { return state.path() + "/logs/" + id(i) + ".log"; }

    void start_supervisor() { (void)supervisor.start(options.supervisor_socket); }

    std::string write_bundle(int i)
    {
        auto config = bundle.config;
        config["root"]["path"] = bundle.rootfs();
        config["linux"]["cgroupsPath"] = prefix + std::to_string(i);
        const auto script = fate(i) == Fate::ExitsLater
                                ? "echo hello-" + std::to_string(i) +
                                      "; while [ ! -e /go ]; do sleep 0.2; done; echo bye-" +
                                      std::to_string(i) + "; exit 42"
                                : "echo hello-" + std::to_string(i) + "; exec sleep 100000";
        config["process"]["args"] = {"sh", "-c", script};
        auto dir = state.path() + "/bundles/" + id(i);
        fs::create_directories(dir);
        std::ofstream(dir + "/config.json") << config.dump();
        return dir;
    }
};

// VmRSS, RssAnon, RssFile, RssShmem of pid, as /proc/<pid>/status prints them.
std::string rss_of(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line, out;
    while (std::getline(in, line))
        if (line.starts_with("VmRSS") || line.starts_with("RssAnon") ||
            line.starts_with("RssFile") || line.starts_with("RssShmem"))
            out += line + "; ";
    return out;
}

std::string describe(const berth::Error& e)
{
    return e.message();
}

bool log_has(const std::string& path, const std::string& line)
{
    std::ifstream in(path);
    std::string entry;
    while (std::getline(in, entry)) {
        auto j = nlohmann::json::parse(entry, nullptr, false);
        if (!j.is_discarded() && j.value("log", "") == line && j.value("stream", "") == "stdout" &&
            j.value("time", "").size() > 20)
            return true;
    }
    return false;
}

// One container's life in the agent; failures come back as text.
std::string drive(const Node& node, int i, const std::string& bundle)
{
    rt::CreateOptions co;
    co.id = node.id(i);
    co.bundle = bundle;
    co.log_path = node.log(i);
    co.log_max_bytes = std::uint64_t{1} << 20;
    auto c = rt::Container::create(node.options, co);
    if (!c)
        return "create: " + describe(c.error());
    if (auto r = c->start(); !r)
        return "start: " + describe(r.error());
    rt::ExecOptions eo;
    eo.process.args = {"sh", "-c", "echo exec-" + std::to_string(i)};
    eo.process.env = {"PATH=/bin"};
    berth::Fd out(::memfd_create("exec-out", MFD_CLOEXEC));
    eo.stdout_fd = out.get();
    auto p = c->exec(eo);
    if (!p)
        return "exec: " + describe(p.error());
    auto pe = p->wait();
    if (!pe || pe->status() != 0)
        return "exec wait: " + (pe ? std::to_string(pe->status()) : describe(pe.error()));
    if (read_all(out.get()) != "exec-" + std::to_string(i) + "\n")
        return "exec output: " + read_all(out.get());
    if (fate(i) != Fate::Killed)
        return "";
    // Killed only once its first line is out (the shell may not have run yet): then that line
    // must be in the log whatever happens to the process.
    const auto hello = "hello-" + std::to_string(i) + "\n";
    for (int t = 0; t < 2000 && !log_has(node.log(i), hello); ++t) // 20 s: busy machine
        std::this_thread::sleep_for(10ms);
    if (auto r = c->kill(SIGKILL); !r)
        return "kill: " + describe(r.error());
    auto e = c->init().wait();
    if (!e || e->signal != SIGKILL)
        return "init wait: " + (e ? std::to_string(e->status()) : describe(e.error()));
    return "";
}

// The agent: 4 threads, 25 containers each. Writes failures then "done" to report, and waits
// to be killed.
[[noreturn]] void agent(Node& node, const std::vector<std::string>& bundles, int report)
{
    std::mutex mutex;
    std::string failures;
    std::vector<std::thread> threads;
    threads.reserve(thread_count);
    for (int t = 0; t < thread_count; ++t)
        threads.emplace_back([&, t] {
            for (int i = t; i < container_count; i += thread_count) {
                auto f = drive(node, i, bundles[static_cast<std::size_t>(i)]);
                if (!f.empty()) {
                    std::lock_guard lock(mutex);
                    failures += node.id(i) + ": " + f + "\n";
                }
            }
        });
    for (auto& t : threads)
        t.join();
    failures += "done\n";
    (void)berth::write_all(report, failures);
    for (;;)
        ::pause();
}

std::string read_until_done(int fd)
{
    std::string text;
    char buf[4096];
    while (text.find("done\n") == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 240000) <= 0)
            break;
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    return text;
}

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_supervisor,
                      *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_AUTO_TEST_CASE(
    an_agent_killed_midway_is_replaced_without_losing_containers_exit_codes_or_logs,
    *utf::timeout(280))
{
    Node node;
    node.bundle.config["process"]["noNewPrivileges"] = true;
    node.start_supervisor();
    BOOST_TEST_REQUIRE(fs::exists(node.options.supervisor_socket));
    // The figures in docs/BENCHMARKS.md (--log_level=message).
    BOOST_TEST_MESSAGE("supervisor idle: " << rss_of(node.supervisor.pid()));
    std::vector<std::string> bundles;
    bundles.reserve(container_count);
    for (int i = 0; i < container_count; ++i)
        bundles.push_back(node.write_bundle(i));

    int report[2];
    BOOST_TEST_REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
    const pid_t agent_pid = ::fork();
    BOOST_TEST_REQUIRE(agent_pid >= 0);
    if (agent_pid == 0) {
        ::close(report[0]);
        agent(node, bundles, report[1]);
    }
    ::close(report[1]);
    const auto result = read_until_done(report[0]);
    ::close(report[0]);
    ::kill(agent_pid, SIGKILL); // mid-life: handles, threads and all
    ::waitpid(agent_pid, nullptr, 0);
    BOOST_TEST(result == "done\n");
    BOOST_TEST_MESSAGE("supervisor with "
                       << container_count * 3 / 4
                       << " containers (and their logs): " << rss_of(node.supervisor.pid()));

    // While no agent runs: a quarter of the containers finish, and log their last line.
    std::ofstream(node.bundle.rootfs() + "/go") << "go";
    for (int i = 1; i < container_count; i += 4)
        for (int t = 0;
             t < 1000 && !fs::exists(node.options.root + "/" + node.id(i) + "/exit-init.json"); ++t)
            std::this_thread::sleep_for(20ms);
    fs::create_directories(node.options.root + "/half-made"); // a create killed midway

    auto recovered = rt::recover(node.options); // the new agent
    BOOST_TEST_REQUIRE(recovered.has_value(), why(recovered));
    BOOST_TEST((recovered->removed_incomplete == std::vector<std::string>{"half-made"}));
    BOOST_TEST(recovered->live.size() == static_cast<std::size_t>(container_count / 2));
    BOOST_TEST(recovered->ended.size() == static_cast<std::size_t>(container_count / 2));
    for (const auto& ended : recovered->ended) {
        const int i = std::stoi(ended.id.substr(1));
        BOOST_TEST_REQUIRE(ended.record.has_value(), ended.id);
        if (fate(i) == Fate::Killed)
            BOOST_TEST(ended.record->signal == SIGKILL, ended.id);
        else
            BOOST_TEST(ended.record->exit_code == 42, ended.id);
        BOOST_TEST(rt::remove(node.options, ended.id, false).has_value(), ended.id);
    }
    for (auto& c : recovered->live) {
        const int i = std::stoi(c.id().substr(1));
        BOOST_TEST((fate(i) == Fate::Lives), c.id());
        BOOST_TEST(c.kill(SIGKILL).has_value(), c.id());
        auto e = c.init().wait(); // through the supervisor's exit pipe
        BOOST_TEST_REQUIRE(e.has_value(), why(e));
        BOOST_TEST(e->signal == SIGKILL, c.id());
        BOOST_TEST(c.remove(false).has_value(), c.id());
    }
    for (int i = 0; i < container_count; ++i) {
        BOOST_TEST(log_has(node.log(i), "hello-" + std::to_string(i) + "\n"), node.log(i));
        if (fate(i) == Fate::ExitsLater)
            BOOST_TEST(log_has(node.log(i), "bye-" + std::to_string(i) + "\n"), node.log(i));
    }
    BOOST_TEST(berth::test::list_dir(node.options.root).empty());
    for (int i = 0; i < container_count; ++i)
        BOOST_TEST(!berth::test::cgroup_exists(node.prefix + std::to_string(i)));
}

BOOST_AUTO_TEST_SUITE_END()
