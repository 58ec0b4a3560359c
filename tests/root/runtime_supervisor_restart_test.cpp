// tests/root/runtime_supervisor_restart_test.cpp — berth-supervisor under the agent's weight: a
// slow create does not stall other containers' logs (the log pump thread), orphans of exec'd
// processes are reaped by it as subreaper, and a supervisor SIGKILLed and restarted re-adopts
// the live containers, records their end honestly (exit_unknown) and drains their logs again
// without losing a line written meanwhile. Only the supervisors this test started are killed,
// by pid.
#define BOOST_TEST_MODULE runtime_supervisor_restart
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <atomic>
#include <cstring>
#include "base/files.hpp"
#include "tests/root/runtime_fixture.hpp"
#include "tests/root/supervisor_process.hpp"

using namespace berth::test;

namespace {

// The test process is a subreaper: containers a killed supervisor leaves behind are reparented
// to it (not to this host's pid 1), and RuntimeFixture reaps them at the end.
struct SupervisorFixture : RuntimeFixture {
    SupervisorProcess supervisor;
    std::string logs = state.path() + "/logs";

    SupervisorFixture()
    {
        ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        options.supervisor_socket = state.path() + "/supervisor.sock";
        fs::create_directories(logs);
        start_supervisor();
    }
    void start_supervisor() { BOOST_TEST_REQUIRE(supervisor.start(options.supervisor_socket)); }
    void kill_supervisor() { supervisor.kill(); }
    // Supervised: stdio /dev/null, or the log file when log is set.
    rt::CreateOptions supervised(const std::string& id, bool log)
    {
        auto co = create_options(id);
        ::close(co.stdin_fd);
        co.stdin_fd = co.stdout_fd = co.stderr_fd = -1;
        if (log)
            co.log_path = logs + "/" + id + ".log";
        return co;
    }
};

// The "time" of each json-file entry, in ns since the epoch (RFC3339Nano, UTC).
std::vector<std::int64_t> log_times(const std::string& path)
{
    std::vector<std::int64_t> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded())
            continue;
        const auto t = j.value("time", "");
        std::tm tm{};
        const char* rest = ::strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
        if (rest == nullptr)
            continue;
        std::int64_t ns = 0;
        if (*rest == '.') {
            std::string frac;
            for (++rest; *rest >= '0' && *rest <= '9'; ++rest)
                frac += *rest;
            frac.resize(9, '0');
            ns = std::stoll(frac);
        }
        out.push_back(static_cast<std::int64_t>(::timegm(&tm)) * 1000000000 + ns);
    }
    return out;
}

// A fake berth-supervisor on `path` for recover()'s windows around a watch. Its first request
// is answered as a supervisor answers for an init it has not recorded yet (its pid, no pidfd,
// the read end of an exit pipe), and then the pipe's other end is closed with no exit record
// written, as the kernel closes it when a supervisor is SIGKILLed there: the window between the
// watch and the wait. With `silent_first`, the first connection is instead closed unanswered
// (a supervisor killed while answering) and a second one is answered, its exit pipe kept open
// as a live supervisor keeps it.
class FakeSupervisor {
public:
    FakeSupervisor(const std::string& path, pid_t pid, bool silent_first = false)
    {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        BOOST_TEST_REQUIRE(path.size() < sizeof addr.sun_path);
        std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
        BOOST_TEST_REQUIRE(listener_.valid());
        BOOST_TEST_REQUIRE(
            ::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
        BOOST_TEST_REQUIRE(::listen(listener_.get(), 2) == 0);
        thread_ = std::thread([this, pid, silent_first] {
            if (silent_first && !accept_request().valid())
                return;
            served_ = answer(pid, silent_first);
        });
    }
    ~FakeSupervisor()
    {
        if (thread_.joinable())
            thread_.join();
    }
    FakeSupervisor(const FakeSupervisor&) = delete;
    FakeSupervisor& operator=(const FakeSupervisor&) = delete;
    // Whether a request was answered. Waits for the serving thread: the client may read the
    // answer and return before the thread has noted that it sent it.
    bool served()
    {
        if (thread_.joinable())
            thread_.join();
        return served_;
    }

private:
    // The next connection, once its request is read; invalid after 10 s without one.
    berth::Fd accept_request() const
    {
        pollfd p{listener_.get(), POLLIN, 0};
        if (::poll(&p, 1, 10000) != 1)
            return {};
        berth::Fd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        std::vector<char> request(std::size_t{64} * 1024);
        if (!conn.valid() || ::recv(conn.get(), request.data(), request.size(), 0) <= 0)
            return {};
        return conn;
    }

    bool answer(pid_t pid, bool keep_pipe)
    {
        const auto conn = accept_request();
        int ends[2];
        if (!conn.valid() || ::pipe2(ends, O_CLOEXEC) < 0)
            return false;
        const berth::Fd read_end(ends[0]);
        berth::Fd write_end(ends[1]); // closed on return ("dead") unless kept
        const std::string answer =
            R"({"ok":true,"pid":)" + std::to_string(pid) + R"(,"hasPidfd":false})";
        iovec iov{const_cast<char*>(answer.data()), answer.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        const int fd = read_end.get();
        std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
        const bool sent =
            ::sendmsg(conn.get(), &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(answer.size());
        if (keep_pipe)
            kept_ = std::move(write_end);
        return sent;
    }

    berth::Fd listener_{::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)};
    berth::Fd kept_;
    std::atomic<bool> served_{false};
    std::thread thread_;
};

std::string proc_field(pid_t pid, const std::string& key)
{
    return status_line(read_text("/proc/" + std::to_string(pid) + "/status"), key);
}

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_supervisor_restart,
                      *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(a_slow_create_does_not_stall_another_containers_log, SupervisorFixture)
{
    // A: a line every 10 ms for 4 s. B: its createRuntime hook takes 2 s, in the supervisor.
    bundle.set_args({"sh", "-c",
                     "i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); usleep 10000; "
                     "done; exec sleep 100000"});
    bundle.write();
    const auto a_id = new_id("talker");
    auto a = rt::Container::create(options, supervised(a_id, true));
    BOOST_TEST_REQUIRE(a.has_value(), why(a));
    BOOST_TEST_REQUIRE(a->start().has_value());
    std::this_thread::sleep_for(500ms);

    Bundle slow;
    slow.config["root"]["path"] = slow.rootfs();
    slow.config["hooks"]["createRuntime"] = {{{"path", "/bin/sleep"}, {"args", {"sleep", "2"}}}};
    slow.set_args({"sleep", "100000"});
    slow.write();
    auto co = supervised(new_id("slow"), false);
    co.bundle = slow.dir();
    const auto before = std::chrono::steady_clock::now();
    auto b = rt::Container::create(options, co);
    const auto create_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - before)
                               .count();
    BOOST_TEST_REQUIRE(b.has_value(), why(b));
    BOOST_TEST(create_ms >= 2000);
    std::this_thread::sleep_for(500ms);

    // Each entry's time is when the supervisor read it: a stalled drain shows as a gap of the
    // whole create, then a burst of entries with one time.
    // 3 s of a line every 10 ms, fewer on a busy machine: enough to see a 2 s stall.
    const auto times = log_times(logs + "/" + a_id + ".log");
    BOOST_TEST_REQUIRE(times.size() >= 100u);
    std::int64_t max_gap = 0;
    for (std::size_t i = 1; i < times.size(); ++i)
        max_gap = std::max(max_gap, times[i] - times[i - 1]);
    BOOST_TEST_MESSAGE("create took " << create_ms << " ms; longest gap between log entries of "
                                      << "another container meanwhile: " << max_gap / 1000000
                                      << " ms");
    BOOST_TEST(max_gap < 1000 * 1000000LL, "gap " << max_gap / 1000000 << " ms"); // half of it
    BOOST_TEST(a->remove(true).has_value());
    BOOST_TEST(b->remove(true).has_value());
}

BOOST_FIXTURE_TEST_CASE(an_orphan_an_exec_leaves_behind_is_reaped_by_the_supervisor,
                        SupervisorFixture)
{
    remove_namespace(bundle.config, "pid"); // its orphans are the host's, not a container init's
    bundle.set_args({"sleep", "100000"});
    bundle.write();
    auto c = rt::Container::create(options, supervised(new_id("orphans"), false));
    BOOST_TEST_REQUIRE(c.has_value(), why(c));
    BOOST_TEST_REQUIRE(c->start().has_value());
    rt::ExecOptions eo;
    eo.process.args = {"sh", "-c", "sleep 1 & echo $!"};
    eo.process.env = {"PATH=/bin"};
    berth::Fd out(::memfd_create("exec-out", MFD_CLOEXEC));
    eo.stdout_fd = out.get();
    auto p = c->exec(eo);
    BOOST_TEST_REQUIRE(p.has_value(), why(p));
    auto e = p->wait();
    BOOST_TEST_REQUIRE(e.has_value(), why(e));
    BOOST_TEST(e->exit_code == 0);
    const pid_t orphan = std::stoi(read_all(out.get()));
    // Reparented to the supervisor (not pid 1), which reaps it: no zombie left.
    BOOST_TEST(proc_field(orphan, "PPid") == std::to_string(supervisor.pid()));
    bool gone = false;
    for (int i = 0; i < 500 && !gone; ++i) {
        gone = !fs::exists("/proc/" + std::to_string(orphan));
        if (!gone)
            std::this_thread::sleep_for(10ms);
    }
    BOOST_TEST(gone, "process " << orphan << " still there: " << proc_field(orphan, "State"));
    BOOST_TEST(c->remove(true).has_value());
}

BOOST_FIXTURE_TEST_CASE(
    a_restarted_supervisor_readopts_live_containers_and_records_their_end_as_unknown,
    SupervisorFixture)
{
    // The live one writes a numbered line every 20 ms, before, during and after the outage.
    bundle.set_args({"sh", "-c", "i=0; while :; do echo tick-$i; i=$((i+1)); usleep 20000; done"});
    bundle.write();
    Bundle sleeper;
    sleeper.config["root"]["path"] = sleeper.rootfs();
    sleeper.set_args({"sleep", "100000"});
    sleeper.write();
    const auto live_id = new_id("lives");
    const auto ended_id = new_id("ends");
    const auto log = logs + "/" + live_id + ".log";
    pid_t ended_pid = 0;
    {
        auto ended_co = supervised(ended_id, false);
        ended_co.bundle = sleeper.dir();
        auto live = rt::Container::create(options, supervised(live_id, true));
        auto ended = rt::Container::create(options, ended_co);
        BOOST_TEST_REQUIRE(live.has_value(), why(live));
        BOOST_TEST_REQUIRE(ended.has_value(), why(ended));
        BOOST_TEST_REQUIRE(live->start().has_value());
        BOOST_TEST_REQUIRE(ended->start().has_value());
        ended_pid = ended->init().pid();
    }
    std::this_thread::sleep_for(300ms);
    kill_supervisor(); // its containers go on, reparented to us (subreaper)
    const auto before_outage = log_times(log).size();
    std::this_thread::sleep_for(500ms); // the talker writes on: into the pipe, no EPIPE
    // One ends while no supervisor runs; we reap it as its new parent would (pid 1 would).
    BOOST_TEST_REQUIRE(::kill(ended_pid, SIGKILL) == 0);
    BOOST_TEST(::waitpid(ended_pid, nullptr, 0) == ended_pid);
    start_supervisor();

    auto recovered = rt::recover(options);
    BOOST_TEST_REQUIRE(recovered.has_value(), why(recovered));
    BOOST_TEST_REQUIRE(recovered->live.size() == 1u);
    BOOST_TEST_REQUIRE(recovered->ended.size() == 1u);
    BOOST_TEST(recovered->ended[0].id == ended_id);
    BOOST_TEST_REQUIRE(recovered->ended[0].record.has_value());
    BOOST_TEST(recovered->ended[0].record->exit_unknown);
    BOOST_TEST(recovered->ended[0].record->finished_ns == 0); // nobody saw when
    BOOST_TEST(recovered->ended[0].record->pid == ended_pid);

    auto& live = recovered->live[0];
    BOOST_TEST(live.id() == live_id);
    std::this_thread::sleep_for(500ms);
    auto running = live.init().try_reap();
    BOOST_TEST_REQUIRE(running.has_value(), why(running));
    BOOST_TEST(!running->has_value()); // alive: no SIGPIPE while no supervisor read its pipe
    // Every line, those written while no supervisor ran included, in order, none lost; read
    // until 30 more than before the outage have come (a busy machine ticks slower).
    const auto lines_in_order = [&log] {
        std::ifstream in(log);
        std::string entry;
        int next = 0;
        while (std::getline(in, entry)) {
            if (in.eof())
                break; // a last line still being written: read again next time
            auto j = nlohmann::json::parse(entry, nullptr, false);
            BOOST_TEST_REQUIRE(!j.is_discarded());
            BOOST_TEST_REQUIRE(j.value("log", "") == "tick-" + std::to_string(next) + "\n", entry);
            ++next;
        }
        return static_cast<std::size_t>(next);
    };
    std::size_t next = lines_in_order();
    for (int i = 0; i < 100 && next <= before_outage + 30; ++i) {
        std::this_thread::sleep_for(100ms);
        next = lines_in_order();
    }
    BOOST_TEST_MESSAGE("log lines before the outage " << before_outage << ", after " << next);
    BOOST_TEST(next > before_outage + 30);
    BOOST_TEST_REQUIRE(live.kill(SIGKILL).has_value());
    auto e = live.init().wait(); // through the new supervisor's exit pipe
    BOOST_TEST_REQUIRE(e.has_value(), why(e));
    BOOST_TEST(e->exit_unknown);
    BOOST_TEST(e->signal == 0);
    BOOST_TEST(e->finished_ns > 0);
    BOOST_TEST(!e->oom_killed);
    auto on_disk = berth::read_file(options.root + "/" + live_id + "/exit-init.json");
    BOOST_TEST_REQUIRE(on_disk.has_value());
    BOOST_TEST(on_disk->find("\"exitUnknown\":true") != std::string::npos);
    const pid_t live_pid = live.init().pid();
    BOOST_TEST(::waitpid(live_pid, nullptr, 0) == live_pid); // its parent is us now
    BOOST_TEST(live.remove(false).has_value());
    BOOST_TEST(rt::remove(options, ended_id, false).has_value());
}

// Issue 14: what a supervisor exec'd is re-adopted by its successor like an init: the one still
// running ends with exit_unknown when its successor sees it end, the one that ended during the
// outage comes back recorded as exit_unknown with no finish time, and no marker is left.
BOOST_FIXTURE_TEST_CASE(a_restarted_supervisor_readopts_execd_processes_and_records_their_end,
                        SupervisorFixture)
{
    bundle.set_args({"sleep", "100000"});
    bundle.write();
    const auto id = new_id("execs");
    pid_t lives = 0, ends = 0;
    {
        auto c = rt::Container::create(options, supervised(id, false));
        BOOST_TEST_REQUIRE(c.has_value(), why(c));
        BOOST_TEST_REQUIRE(c->start().has_value());
        rt::ExecOptions eo;
        eo.process.args = {"sleep", "100000"};
        eo.process.env = {"PATH=/bin"};
        auto a = c->exec(eo);
        auto b = c->exec(eo);
        BOOST_TEST_REQUIRE(a.has_value(), why(a));
        BOOST_TEST_REQUIRE(b.has_value(), why(b));
        lives = a->pid();
        ends = b->pid();
    } // the handles go; the processes run on
    const auto dir = options.root + "/" + id;
    BOOST_TEST(fs::exists(dir + "/exec-" + std::to_string(lives) + ".json"));
    kill_supervisor(); // the exec'd processes are reparented to us (subreaper)
    BOOST_TEST_REQUIRE(::kill(ends, SIGKILL) == 0);
    BOOST_TEST(::waitpid(ends, nullptr, 0) == ends);
    start_supervisor();

    auto c = rt::Container::load(options, id);
    BOOST_TEST_REQUIRE(c.has_value(), why(c));
    auto execs = c->execs();
    BOOST_TEST_REQUIRE(execs.has_value(), why(execs));
    BOOST_TEST_REQUIRE(execs->size() == 2u);
    for (auto& p : *execs) {
        auto r = p.try_reap();
        BOOST_TEST_REQUIRE(r.has_value(), why(r));
        if (p.pid() == ends) {
            BOOST_TEST_REQUIRE(r->has_value()); // ended while no supervisor ran
            BOOST_TEST((*r)->exit_unknown);
            BOOST_TEST((*r)->finished_ns == 0);
            continue;
        }
        BOOST_TEST(p.pid() == lives);
        BOOST_TEST(!r->has_value()); // alive, watched again
        BOOST_TEST_REQUIRE(p.signal(SIGKILL).has_value());
        auto e = p.wait(); // through the new supervisor's exit pipe
        BOOST_TEST_REQUIRE(e.has_value(), why(e));
        BOOST_TEST(e->exit_unknown);
        BOOST_TEST(e->finished_ns > 0);
        BOOST_TEST(::waitpid(lives, nullptr, 0) == lives); // its parent is us now
    }
    for (const pid_t pid : {lives, ends}) {
        BOOST_TEST(!fs::exists(dir + "/exec-" + std::to_string(pid) + ".json"));
        BOOST_TEST(fs::exists(dir + "/exit-" + std::to_string(pid) + ".json"));
    }
    auto again = c->execs(); // everything recorded: nothing left to watch
    BOOST_TEST_REQUIRE(again.has_value(), why(again));
    BOOST_TEST(again->empty());
    const pid_t init = c->init().pid();
    BOOST_TEST_REQUIRE(c->kill(SIGKILL).has_value());
    BOOST_TEST(c->init().wait().has_value());
    BOOST_TEST(::waitpid(init, nullptr, 0) == init);
    BOOST_TEST(c->remove(false).has_value());
}

// Issue 17: recover() asks the supervisor for a stopped container's record (it may be reaping
// it right now); one that dies between that watch and the wait leaves no record and never will.
// The container still comes back as ended, recorded as its successor would: exit_unknown, no
// finish time (nobody saw it end).
BOOST_FIXTURE_TEST_CASE(a_supervisor_dying_between_the_watch_and_the_wait_still_recovers_the_end,
                        RuntimeFixture)
{
    bundle.set_args({"true"});
    bundle.write();
    const auto id = new_id("window");
    pid_t pid = 0;
    {
        auto c = rt::Container::create(options, create_options(id)); // in-process: we reap
        BOOST_TEST_REQUIRE(c.has_value(), why(c));
        BOOST_TEST_REQUIRE(c->start().has_value());
        pid = c->init().pid();
        BOOST_TEST_REQUIRE(c->init().wait().has_value());
    }
    // As if its supervisor had died before recording it.
    const auto record = options.root + "/" + id + "/exit-init.json";
    BOOST_TEST_REQUIRE(::unlink(record.c_str()) == 0);

    options.supervisor_socket = state.path() + "/dying.sock";
    std::optional<berth::Result<rt::Recovered>> recovered;
    {
        FakeSupervisor supervisor(options.supervisor_socket, pid);
        recovered = rt::recover(options);
        BOOST_TEST(supervisor.served()); // recover() did ask it
    }
    options.supervisor_socket.clear();
    BOOST_TEST_REQUIRE(recovered->has_value(), why(*recovered));
    const auto& out = **recovered;
    BOOST_TEST(out.live.empty());
    BOOST_TEST_REQUIRE(out.ended.size() == 1u);
    BOOST_TEST(out.ended[0].id == id);
    BOOST_TEST_REQUIRE(out.ended[0].record.has_value()); // no longer lost
    BOOST_TEST(out.ended[0].record->exit_unknown);
    BOOST_TEST(out.ended[0].record->finished_ns == 0);
    BOOST_TEST(out.ended[0].record->pid == pid);
    BOOST_TEST(!out.ended[0].record->oom_killed);
    BOOST_TEST(rt::remove(options, id, false).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

// Issue 17: recover() asks the supervisor to watch a running container; one killed while
// answering leaves the request unanswered (EOF), which the client does not send again on its
// own. recover() asks once more rather than fail as a whole (and the agent's restart with it):
// the container comes back live, watched through the second answer.
BOOST_FIXTURE_TEST_CASE(a_supervisor_dying_while_answering_a_watch_is_asked_again, RuntimeFixture)
{
    bundle.set_args({"sleep", "100000"});
    bundle.write();
    const auto id = new_id("unanswered");
    auto c = rt::Container::create(options, create_options(id)); // in-process: we reap
    BOOST_TEST_REQUIRE(c.has_value(), why(c));
    BOOST_TEST_REQUIRE(c->start().has_value());
    const pid_t pid = c->init().pid();

    options.supervisor_socket = state.path() + "/silent.sock";
    std::optional<berth::Result<rt::Recovered>> recovered;
    {
        FakeSupervisor supervisor(options.supervisor_socket, pid, /*silent_first=*/true);
        recovered = rt::recover(options);
        BOOST_TEST(supervisor.served()); // the second request was answered
    }
    options.supervisor_socket.clear();
    BOOST_TEST_REQUIRE(recovered->has_value(), why(*recovered));
    auto& out = **recovered;
    BOOST_TEST(out.ended.empty());
    BOOST_TEST_REQUIRE(out.live.size() == 1u);
    BOOST_TEST(out.live[0].id() == id);
    BOOST_TEST(out.live[0].init().pid() == pid);
    BOOST_TEST(c->kill(SIGKILL).has_value());
    BOOST_TEST(c->init().wait().has_value());
    BOOST_TEST(rt::remove(options, id, false).has_value());
}
