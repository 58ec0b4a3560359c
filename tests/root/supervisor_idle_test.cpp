// tests/root/supervisor_idle_test.cpp — berth-supervisor runs only while there is something to
// supervise (issue 17, idle memory): started on demand by the runtime's first request
// (Options::start_supervisor, here berthd's own ensure_supervisor), it leaves after
// --idle-exit seconds with nothing to supervise, and not before: a running container or an open
// connection keeps it, and a container created right at its idle deadline is never lost (the
// request is served by the leaving supervisor, which then stays, or by a new one). Real
// supervisors spawned in the test's own directory (their socket, pid file and lock), each
// killed by pid at the end if still there.
#define BOOST_TEST_MODULE supervisor_idle
#include <sys/socket.h>
#include <sys/un.h>
#include <map>
#include <set>
#include "agent/daemon/pure.hpp"
#include "base/fd.hpp"
#include "base/unix_datagram.hpp"
#include "tests/root/runtime_fixture.hpp"

using namespace berth::test;

namespace {

// A live (not zombie) berth-supervisor with this pid.
bool alive(pid_t pid)
{
    if (pid <= 0)
        return false;
    const auto stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(") ");
    return close != std::string::npos && stat.find("(berth-superviso") != std::string::npos &&
           stat[close + 2] != 'Z';
}

// Live berth-supervisor processes whose command line names this socket.
// The supervisors serving socket. A process with a supervisor's command line whose parent is one
// is not another supervisor but the supervisor's own child before its exec (a container's stage)
// or, under ASan, LeakSanitizer's tracer cloned at exit: not counted.
std::set<pid_t> supervisors_of(const std::string& socket)
{
    std::map<pid_t, pid_t> parent_of;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        auto cmdline = read_text(entry.path().string() + "/cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        const pid_t pid = std::stoi(name);
        if (cmdline.find("berth-supervisor") == std::string::npos ||
            cmdline.find(socket + " ") == std::string::npos || !alive(pid))
            continue;
        const auto stat = read_text(entry.path().string() + "/stat");
        const auto close = stat.rfind(") ");
        parent_of[pid] =
            close == std::string::npos
                ? 0
                : static_cast<pid_t>(std::strtol(stat.c_str() + close + 4, nullptr, 10));
    }
    std::set<pid_t> out;
    for (const auto& [pid, parent] : parent_of)
        if (parent_of.count(parent) == 0)
            out.insert(pid);
    return out;
}

template <typename Done>
bool eventually(Done done, std::chrono::milliseconds limit)
{
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (done())
            return true;
        std::this_thread::sleep_for(20ms);
    }
    return done();
}

struct IdleFixture : RuntimeFixture {
    berth::daemon::Options daemon;
    std::string dir = state.path(); // the "runtime dir": supervisor.sock, .pid, .lock

    IdleFixture()
    {
        const char* build = std::getenv("BERTH_BUILD_ROOT"); // NOLINT(concurrency-mt-unsafe)
        daemon.supervisor_binary =
            std::string(build ? build : "build") + "/runtime/cli/berth-supervisor";
        BOOST_TEST_REQUIRE(fs::exists(daemon.supervisor_binary), daemon.supervisor_binary);
        daemon.config.supervisor_idle_exit = 1s;
        options.supervisor_socket = socket();
        options.start_supervisor = [this] {
            return berth::daemon::ensure_supervisor_in(daemon, dir);
        };
    }
    ~IdleFixture()
    {
        for (const pid_t pid : supervisors_of(socket()))
            ::kill(pid, SIGKILL);
        BOOST_TEST(eventually([&] { return supervisors_of(socket()).empty(); }, 5s));
    }
    std::string socket() const { return dir + "/supervisor.sock"; }
    // The pid supervisor.pid names (line 1), 0 when there is none.
    pid_t recorded() const
    {
        const auto text = read_text(dir + "/supervisor.pid");
        return text.empty() ? 0 : static_cast<pid_t>(std::strtol(text.c_str(), nullptr, 10));
    }
    // Supervised, stdio /dev/null: the container `sh -c script`.
    rt::Container create(const std::string& script)
    {
        bundle.set_args({"sh", "-c", script});
        bundle.write();
        rt::CreateOptions co;
        co.id = new_id("idle");
        co.bundle = bundle.dir();
        auto c = rt::Container::create(options, co);
        BOOST_TEST_REQUIRE(c.has_value(), why(c));
        return std::move(*c);
    }
    bool gone() const
    {
        return !alive(recorded()) && supervisors_of(socket()).empty() && !fs::exists(socket()) &&
               !fs::exists(dir + "/supervisor.pid");
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(supervisor_idle, *utf::label("root") * utf::precondition(is_root))

BOOST_FIXTURE_TEST_CASE(it_is_started_by_the_first_create_and_leaves_only_after_the_last_container,
                        IdleFixture)
{
    BOOST_TEST_REQUIRE(!fs::exists(socket()));
    auto c = create("sleep 2; exit 3");
    const pid_t first = recorded();
    BOOST_TEST_REQUIRE(alive(first), "the create did not start a supervisor");
    BOOST_TEST_REQUIRE(c.start().has_value());
    // Longer than --idle-exit 1 with the container running: still there.
    std::this_thread::sleep_for(1500ms);
    BOOST_TEST(alive(first));
    auto record = c.init().wait();
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    BOOST_TEST(record->exit_code == 3);
    std::this_thread::sleep_for(400ms);
    BOOST_TEST(alive(first), "it left before its idle time");
    BOOST_TEST_REQUIRE(eventually([&] { return gone(); }, 5s),
                       "still there 5 s after the last container ended");
    // From when it reaped the container (the record's time, written before its idle clock
    // starts), not from when this test woke to the news: a busy machine wakes it late.
    const auto idle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch() -
                             std::chrono::nanoseconds(record->finished_ns))
                             .count();
    BOOST_TEST(idle_ms >= 1000);
    BOOST_TEST_MESSAGE("left " << idle_ms << " ms after the last container ended");
    BOOST_TEST(c.remove(false).has_value());

    // The next create starts another one, and the container runs as before.
    auto again = create("exit 5");
    const pid_t second = recorded();
    BOOST_TEST(alive(second));
    BOOST_TEST(second != first);
    BOOST_TEST_REQUIRE(again.start().has_value());
    auto code = again.init().wait();
    BOOST_TEST_REQUIRE(code.has_value(), why(code));
    BOOST_TEST(code->exit_code == 5);
    BOOST_TEST(again.remove(false).has_value());
}

BOOST_FIXTURE_TEST_CASE(an_open_connection_keeps_it, IdleFixture)
{
    BOOST_TEST_REQUIRE(options.start_supervisor().has_value());
    const pid_t pid = recorded();
    BOOST_TEST_REQUIRE(alive(pid));
    // A client that connected and has not sent its request yet (it has 5 s).
    const berth::Fd client(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    const auto address = berth::unix_path_address(socket());
    BOOST_TEST_REQUIRE(address.has_value());
    BOOST_TEST_REQUIRE(::connect(client.get(), reinterpret_cast<const sockaddr*>(&address->addr),
                                 address->length) == 0);
    std::this_thread::sleep_for(2500ms);
    BOOST_TEST(alive(pid), "it left with a client connected");
    BOOST_TEST(fs::exists(socket()));
    BOOST_TEST_REQUIRE(eventually([&] { return gone(); }, 10s));
}

// A socket unit started while a self-spawned supervisor runs binds its own socket at the same
// path (systemd unlinks and binds). The leaving supervisor must not move nor unlink that file:
// it touches the path only while it is still the file its own bind() made.
BOOST_FIXTURE_TEST_CASE(leaving_it_leaves_alone_a_socket_someone_else_bound_at_its_path,
                        IdleFixture)
{
    BOOST_TEST_REQUIRE(options.start_supervisor().has_value());
    const pid_t pid = recorded();
    BOOST_TEST_REQUIRE(alive(pid));
    BOOST_TEST_REQUIRE(::unlink(socket().c_str()) == 0);
    const berth::Fd other(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    const auto address = berth::unix_path_address(socket());
    BOOST_TEST_REQUIRE(address.has_value());
    BOOST_TEST_REQUIRE(::bind(other.get(), reinterpret_cast<const sockaddr*>(&address->addr),
                              address->length) == 0);
    BOOST_TEST_REQUIRE(::listen(other.get(), 8) == 0);
    struct stat before {};
    BOOST_TEST_REQUIRE(::lstat(socket().c_str(), &before) == 0);
    BOOST_TEST_REQUIRE(eventually([&] { return !alive(pid); }, 10s), "it did not leave");
    struct stat after {};
    BOOST_TEST_REQUIRE(::lstat(socket().c_str(), &after) == 0, "its exit removed the path");
    BOOST_TEST(after.st_ino == before.st_ino);
    BOOST_TEST(!fs::exists(socket() + ".leaving"));
    BOOST_TEST(::unlink(socket().c_str()) == 0);
}

// The create comes at the idle deadline, a little before or after, again and again: it is
// served, by the leaving supervisor (the exit is cancelled) or by a new one, and its exit code
// is recorded. Never two supervisors at once.
BOOST_FIXTURE_TEST_CASE(a_container_created_at_the_idle_deadline_is_never_lost, IdleFixture)
{
    std::set<pid_t> seen;
    int most_at_once = 0;
    for (int i = 0; i < 14; ++i) {
        auto c = create("exit " + std::to_string(10 + i));
        seen.insert(recorded());
        BOOST_TEST_REQUIRE(c.start().has_value());
        auto record = c.init().wait();
        BOOST_TEST_REQUIRE(record.has_value(), why(record));
        BOOST_TEST(record->exit_code == 10 + i);
        BOOST_TEST_REQUIRE(c.remove(false).has_value());
        most_at_once = std::max(most_at_once, static_cast<int>(supervisors_of(socket()).size()));
        // Its deadline is about 1 s from here (it looks at least once a second).
        std::this_thread::sleep_for(std::chrono::milliseconds(880 + 20 * i));
        most_at_once = std::max(most_at_once, static_cast<int>(supervisors_of(socket()).size()));
    }
    BOOST_TEST(most_at_once <= 1);
    BOOST_TEST_MESSAGE(seen.size() << " supervisors served 14 containers");
    BOOST_TEST(seen.size() >= 2U, "no create came after an idle exit: the test proved nothing");
    BOOST_TEST(seen.size() <= 14U);
}

BOOST_AUTO_TEST_SUITE_END()
