// tests/root/runtime_concurrency_test.cpp — the runtime library used as the agent uses it: from
// several threads at once (issue 14). 50 containers go through create, start, exec, pause,
// resume, kill and delete from 8 threads, sharing one busybox rootfs; meanwhile the caller's
// dumpable flag must never change (the library toggled it around each create once). Shared
// fixture: tests/root/runtime_fixture.hpp. Run under ASan by scripts/sanitize.sh builds.
#define BOOST_TEST_MODULE runtime_concurrency
#include <sys/prctl.h>
#include <atomic>
#include <mutex>
#include "tests/root/runtime_fixture.hpp"

using namespace berth::test;

namespace {

constexpr int containers = 50;
constexpr int threads = 8;

// A bundle directory per container: config.json only, the rootfs shared (absolute root.path),
// each with a cgroup of its own.
struct Bundles {
    TempDir dir{"berth-concurrency"};
    std::vector<std::string> dirs, cgroups;
    Bundles(const Bundle& shared, int count)
    {
        for (int i = 0; i < count; ++i) {
            auto config = shared.config;
            config["root"]["path"] = shared.rootfs();
            cgroups.push_back("/berth-test-" + std::to_string(::getpid()) + "-conc-" +
                              std::to_string(i));
            config["linux"]["cgroupsPath"] = cgroups.back();
            dirs.push_back(dir.path() + "/" + std::to_string(i));
            fs::create_directory(dirs.back());
            std::ofstream(dirs.back() + "/config.json") << config.dump();
        }
    }
};

// Errors gathered from the worker threads (Boost.Test's checks are not thread-safe).
struct Failures {
    std::mutex mutex;
    std::vector<std::string> lines;
    void add(const std::string& line)
    {
        std::lock_guard lock(mutex);
        lines.push_back(line);
    }
};

template <class R>
bool ok(Failures& failures, const std::string& id, const char* step, const R& r)
{
    if (r)
        return true;
    failures.add(id + ": " + step + ": " + r.error().message());
    return false;
}

// One container's whole life; every step must succeed.
void lifecycle(const rt::Options& options, const std::string& id, const std::string& bundle,
               Failures& failures)
{
    rt::CreateOptions co;
    co.id = id;
    co.bundle = bundle;
    berth::Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    co.stdin_fd = co.stdout_fd = co.stderr_fd = null.get();
    auto created = rt::create(options, co);
    if (!ok(failures, id, "create", created))
        return;
    const pid_t pid = created->pid;
    if (ok(failures, id, "start", rt::start(options, id))) {
        rt::ExecOptions eo;
        eo.process.args = {"sh", "-c", "echo " + id};
        eo.process.env = {"PATH=/bin"};
        berth::Fd out(::memfd_create("exec-out", MFD_CLOEXEC));
        eo.stdout_fd = out.get();
        eo.stdin_fd = eo.stderr_fd = null.get();
        auto status = rt::exec(options, id, eo);
        if (ok(failures, id, "exec", status) && (*status != 0 || read_all(out.get()) != id + "\n"))
            failures.add(id + ": exec: status " + std::to_string(*status) + ", output " +
                         read_all(out.get()));
        if (ok(failures, id, "pause", rt::pause(options, id)))
            (void)ok(failures, id, "resume", rt::resume(options, id));
        (void)ok(failures, id, "kill", rt::kill(options, id, SIGKILL, false));
    }
    ::waitpid(pid, nullptr, __WALL); // the init is our child (CLONE_PARENT): reap it
    (void)ok(failures, id, "delete", rt::remove(options, id, true));
}

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_concurrency,
                      *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(fifty_containers_live_and_die_from_eight_threads_at_once, RuntimeFixture)
{
    bundle.set_args({"sleep", "1000"});
    Bundles bundles(bundle, containers);
    std::vector<std::string> container_ids;
    container_ids.reserve(static_cast<std::size_t>(containers));
    for (int i = 0; i < containers; ++i)
        container_ids.push_back(new_id("conc"));
    BOOST_TEST_REQUIRE(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);
    std::atomic<bool> done{false};
    std::atomic<int> not_dumpable{0};
    std::thread watcher([&] {
        while (!done)
            if (::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1)
                ++not_dumpable;
    });
    Failures failures;
    std::atomic<int> next{0};
    std::vector<std::thread> workers;
    workers.reserve(static_cast<std::size_t>(threads));
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&] {
            for (int i = next++; i < containers; i = next++)
                lifecycle(options, container_ids[i], bundles.dirs[i], failures);
        });
    for (auto& worker : workers)
        worker.join();
    done = true;
    watcher.join();
    std::string all;
    for (const auto& line : failures.lines)
        all += line + "\n";
    BOOST_TEST(failures.lines.empty(), all);
    BOOST_TEST(not_dumpable.load() == 0);
    auto listed = rt::list(options);
    BOOST_TEST_REQUIRE(listed.has_value());
    BOOST_TEST(listed->empty());
    for (const auto& cgroup : bundles.cgroups)
        BOOST_TEST(!berth::test::cgroup_exists(cgroup), cgroup);
}

BOOST_AUTO_TEST_SUITE_END()
