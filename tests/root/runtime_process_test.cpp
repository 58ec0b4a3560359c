// tests/root/runtime_process_test.cpp — the runtime library's API driven directly (no CLI), as
// root: the container process: exit codes, signals, capabilities, no_new_privs, seccomp, user,
// rlimits, fds, terminal. Shared fixture and helpers: tests/root/runtime_fixture.hpp.
#define BOOST_TEST_MODULE runtime_process
#include <sys/signalfd.h>
#include <unistd.h>
#include <atomic>
#include <thread>
#include "tests/root/runtime_fixture.hpp"

using namespace berth::test;

BOOST_AUTO_TEST_SUITE(runtime_process,
                      *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(run_echo_prints_and_returns_zero, RuntimeFixture)
{
    auto r = run({"echo", "hello from berth"});
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.out == "hello from berth\n");
}

BOOST_FIXTURE_TEST_CASE(run_returns_the_exit_code, RuntimeFixture)
{
    auto r = run({"sh", "-c", "exit 7"});
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.status == 7);
}

BOOST_FIXTURE_TEST_CASE(killed_process_reports_128_plus_signal, RuntimeFixture)
{
    // Without a pid namespace: a pid namespace's init ignores even SIGKILL from inside it.
    auto& namespaces = bundle.config["linux"]["namespaces"];
    for (auto it = namespaces.begin(); it != namespaces.end(); ++it)
        if ((*it)["type"] == "pid") {
            namespaces.erase(it);
            break;
        }
    auto r = run({"sh", "-c", "kill -9 $$"});
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.status == 128 + SIGKILL);
}

BOOST_FIXTURE_TEST_CASE(missing_binary_is_an_exec_error, RuntimeFixture)
{
    auto r = run({"/no/such/binary"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("exec") != std::string::npos, r.error);
    BOOST_TEST(r.error.find("No such file") != std::string::npos, r.error);
}

BOOST_FIXTURE_TEST_CASE(process_sees_its_capabilities_no_new_privs_and_seccomp, RuntimeFixture)
{
    bundle.config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    const auto status = sh("cat /proc/self/status; mkdir /dev/shm/x || echo mkdir-blocked");
    // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29) from the default config.
    BOOST_TEST(status_line(status, "CapEff") == "0000000020000420");
    BOOST_TEST(status_line(status, "CapBnd") == "0000000020000420");
    // Ambient needs inheritable, which the default config leaves empty (runc shows 0 as well).
    BOOST_TEST(status_line(status, "CapAmb") == "0000000000000000");
    BOOST_TEST(status_line(status, "NoNewPrivs") == "1");
    BOOST_TEST(status_line(status, "Seccomp") == "2");
    BOOST_TEST(status.find("mkdir-blocked") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(seccomp_without_no_new_privs_is_loaded_before_dropping_caps, RuntimeFixture)
{
    bundle.config["process"]["noNewPrivileges"] = false;
    bundle.config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    const auto status = sh("cat /proc/self/status; mkdir /dev/shm/x || echo mkdir-blocked");
    BOOST_TEST(status_line(status, "NoNewPrivs") == "0");
    BOOST_TEST(status_line(status, "Seccomp") == "2");
    BOOST_TEST(status.find("mkdir-blocked") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(hostname_rlimits_user_cwd_and_env_apply, RuntimeFixture)
{
    bundle.config["hostname"] = "berth-box";
    bundle.config["process"]["rlimits"] = {
        {{"type", "RLIMIT_NOFILE"}, {"soft", 321}, {"hard", 654}}};
    bundle.config["process"]["user"] = {{"uid", 1234}, {"gid", 5678}, {"additionalGids", {42}}};
    bundle.config["process"]["cwd"] = "/tmp";
    bundle.config["process"]["env"].push_back("GREETING=hi there");
    bundle.config["root"]["readonly"] = false;
    const auto out = sh("hostname; ulimit -n; ulimit -Hn; id -u; id -g; id -G; pwd; "
                        "echo \"$GREETING\"");
    BOOST_TEST(out == "berth-box\n321\n654\n1234\n5678\n5678 42\n/tmp\nhi there\n");
}

BOOST_FIXTURE_TEST_CASE(no_host_fd_leaks_into_the_container, RuntimeFixture)
{
    const int leaked = ::open("/etc/hostname", O_RDONLY); // deliberately without O_CLOEXEC
    BOOST_TEST_REQUIRE(leaked >= 0);
    // The shell's own fds, listed by a child it waits for (no pipe or redirection open).
    const auto out = sh("ls /proc/$$/fd; true");
    ::close(leaked);
    BOOST_TEST(out == "0\n1\n2\n", last_err);
}

BOOST_FIXTURE_TEST_CASE(bad_cwd_fails_naming_it_and_leaves_nothing, RuntimeFixture)
{
    bundle.config["process"]["cwd"] = "/does/not/exist";
    auto r = run({"true"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("chdir to cwd '/does/not/exist'") != std::string::npos, r.error);
    BOOST_TEST(berth::test::list_dir(options.root).empty());
    BOOST_TEST(!berth::test::cgroup_exists(bundle.cgroups_path()));
    BOOST_TEST(!berth::test::has_mounts_under(bundle.rootfs()));
}

BOOST_FIXTURE_TEST_CASE(terminal_sends_the_pty_master_to_the_console_socket, RuntimeFixture)
{
    berth::test::ConsoleSocket console;
    bundle.config["process"]["terminal"] = true;
    bundle.config["process"]["consoleSize"] = {{"height", 40}, {"width", 100}};
    bundle.set_args({"sh", "-c", "tty; stty size"});
    bundle.write();
    const auto started = start_on_console(new_id("tty"), console);
    const auto text = berth::test::read_until(started.master.get(), "40 100", 5s);
    BOOST_TEST(text.find("/dev/pts/0") != std::string::npos, text);
    BOOST_TEST(text.find("40 100") != std::string::npos, text);
    ::waitpid(started.pid, nullptr, 0);
}

BOOST_FIXTURE_TEST_CASE(foreground_run_forwards_what_the_callers_signalfd_collects, RuntimeFixture)
{
    // The caller (berth-runtime run) blocks the signals and hands run() a signalfd: the library
    // itself changes no signal mask.
    sigset_t term, saved;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &term, &saved);
    berth::Fd signals(::signalfd(-1, &term, SFD_CLOEXEC | SFD_NONBLOCK));
    BOOST_TEST_REQUIRE(signals.valid());
    signal_fd = signals.get();
    const pthread_t runner = ::pthread_self();
    std::atomic<bool> returned{false};
    std::thread sender([runner, &returned] {
        // A SIGTERM to the thread blocked in run(), read from the signalfd and passed on. Sent
        // again until run() returns: the shell is its pid namespace's init, so one forwarded
        // before its trap is set is dropped (a slow start under a sanitizer on a busy machine).
        while (!returned.load()) {
            std::this_thread::sleep_for(200ms);
            ::pthread_kill(runner, SIGTERM); // NOLINT(bugprone-bad-signal-to-kill-thread)
        }
    });
    auto r = run({"sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.05; done"});
    returned.store(true);
    sender.join();
    // What the sender sent after run() returned is read here, not delivered at the unblock.
    signalfd_siginfo info{};
    while (::read(signals.get(), &info, sizeof info) == sizeof info) {
    }
    signal_fd = -1;
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.status == 42);
}

// A caller that blocks or ignores signals (an agent reading them from a signalfd, a shell that
// ignores SIGPIPE, berth-runtime holding the forwarded ones) must not hand that on: both the mask
// and SIG_IGN survive execve.
BOOST_FIXTURE_TEST_CASE(container_starts_with_no_signal_blocked_or_ignored, RuntimeFixture)
{
    sigset_t blocked, saved;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    ::pthread_sigmask(SIG_BLOCK, &blocked, &saved);
    struct sigaction ignore {};
    struct sigaction old_pipe {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old_pipe);
    auto r = run({"grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"});
    ::sigaction(SIGPIPE, &old_pipe, nullptr);
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.out == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

BOOST_AUTO_TEST_SUITE_END()
