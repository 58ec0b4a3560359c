// `berth exec` (agent/cli/exec_command.cpp) against a real running container made with the
// runtime library under a private runtime root laid out as berthd lays it out
// (<runtime_dir>/containers/<task-id>-<container>): the exit status and both output streams come
// back, TASK may be an id prefix, an unknown container is named; with -t the process gets a pty
// of the size of berth's terminal, and berth's terminal leaves raw mode when it is done.
#define BOOST_TEST_MODULE cli_exec
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <termios.h>
#include "tests/root/runtime_fixture.hpp"
#include "tests/support/process.hpp"

using namespace berth::test;

namespace {

std::string berth_binary()
{
    const char* root = std::getenv("BERTH_BUILD_ROOT");
    return std::string(root != nullptr ? root : "build") + "/agent/cli/berth";
}

struct ExecFixture : RuntimeFixture {
    ExecFixture()
    {
        options.root = state.path() + "/containers";
        char uuid[40]; // task ids are UUIDs: the CLI splits <task-id>-<container> at 36
        std::snprintf(uuid, sizeof uuid, "c0ffee00-0000-4000-8000-%012d", ::getpid());
        task = uuid;
        ids.push_back(task + "-web");
        bundle.set_args({"sleep", "1000"});
        bundle.config["process"]["env"] = {"PATH=/bin", "GREETING=hello"};
        bundle.write();
        auto co = create_options(ids.back());
        auto c = rt::Container::create(options, co);
        ::close(co.stdin_fd);
        BOOST_TEST_REQUIRE(c.has_value(), why(c));
        BOOST_TEST_REQUIRE(c->start().has_value());
    }
    std::vector<std::string> berth(const std::vector<std::string>& args) const
    {
        std::vector<std::string> argv = {berth_binary(), "--runtime-dir", state.path(), "exec"};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }
    std::string task;
};

// Runs argv with slave as its controlling terminal and stdin/stderr (stdout: out_fd, or slave
// when -1), in a session of its own. argv's pointers are built before fork: the child only
// calls exec.
pid_t spawn_on_terminal(const std::vector<std::string>& argv, int slave, int out_fd = -1)
{
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t child = ::fork();
    if (child == 0) {
        ::setsid();
        ::ioctl(slave, TIOCSCTTY, 0);
        ::dup2(slave, 0);
        ::dup2(out_fd == -1 ? slave : out_fd, 1);
        ::dup2(slave, 2);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return child;
}

// Waits up to 10 s for child, reading what the terminal shows into out meanwhile (a full pty
// would block the writer). The wait status, or -1 after killing a child that did not finish.
int wait_draining(pid_t child, int master, std::string& out)
{
    for (int i = 0; i < 1000; ++i) {
        pollfd pfd{master, POLLIN, 0};
        if (::poll(&pfd, 1, 10) > 0) {
            char buffer[1024];
            const auto n = ::read(master, buffer, sizeof buffer);
            if (n > 0)
                out.append(buffer, static_cast<std::size_t>(n));
        }
        int status = 0;
        if (::waitpid(child, &status, WNOHANG) == child)
            return status;
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    return -1;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli_exec, *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(exec_returns_the_exit_status_and_both_streams, ExecFixture)
{
    const auto r = run_command(
        berth({task.substr(0, 8), "web", "sh", "-c", "echo $GREETING; echo oops >&2; exit 7"}));
    BOOST_TEST(r.status == 7, r.err);
    BOOST_TEST(r.out == "hello\n");
    BOOST_TEST(r.err == "oops\n");
}

BOOST_FIXTURE_TEST_CASE(an_unknown_container_or_task_is_named, ExecFixture)
{
    const auto r = run_command(berth({task, "db", "true"}));
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find("container 'db'") != std::string::npos, r.err);
    const auto t = run_command(berth({"ffff", "web", "true"}));
    BOOST_TEST(t.status == 1);
    BOOST_TEST(t.err.find("no task 'ffff'") != std::string::npos, t.err);
    BOOST_TEST(run_command(berth({task, "web"})).status == 2); // no command: usage
}

BOOST_FIXTURE_TEST_CASE(tty_exec_without_a_terminal_is_refused_as_docker_does, ExecFixture)
{
    const auto r = run_command(berth({"-t", task, "web", "true"})); // stdin: not a terminal
    BOOST_TEST(r.status == 1, r.err);
    BOOST_TEST(r.err.find("the input device is not a TTY") != std::string::npos, r.err);
}

BOOST_FIXTURE_TEST_CASE(tty_exec_gets_a_pty_of_our_size_and_restores_the_terminal, ExecFixture)
{
    int master = -1, slave = -1;
    winsize size{};
    size.ws_row = 33;
    size.ws_col = 101;
    BOOST_REQUIRE(::openpty(&master, &slave, nullptr, nullptr, &size) == 0);
    berth::Fd master_fd(master), slave_fd(slave);
    termios before{};
    BOOST_REQUIRE(::tcgetattr(slave, &before) == 0);
    const pid_t child = spawn_on_terminal(
        berth({"-t", "-i", task, "web", "sh", "-c", "tty; stty size; exit 5"}), slave);
    BOOST_REQUIRE(child >= 0);
    std::string out;
    const int status = wait_draining(child, master, out);
    if (status == -1)
        BOOST_FAIL("berth exec -t did not finish: " << out);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 5, out);
    BOOST_TEST(out.find("/dev/pts/") != std::string::npos, out);
    BOOST_TEST(out.find("33 101") != std::string::npos, out);
    termios after{};
    BOOST_REQUIRE(::tcgetattr(slave, &after) == 0);
    BOOST_TEST(after.c_lflag == before.c_lflag); // out of raw mode again
    BOOST_TEST(after.c_oflag == before.c_oflag);
}

// berth's stdout gone (berth exec -t ... | head): no SIGPIPE death with the terminal left raw;
// berth waits for the process, restores the terminal and returns the process's status.
BOOST_FIXTURE_TEST_CASE(tty_exec_with_its_output_closed_still_restores_the_terminal, ExecFixture)
{
    int master = -1, slave = -1;
    BOOST_REQUIRE(::openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
    berth::Fd master_fd(master), slave_fd(slave);
    int pipe_fds[2];
    BOOST_REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    berth::Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    termios before{};
    BOOST_REQUIRE(::tcgetattr(slave, &before) == 0);
    const std::string script =
        "sleep 0.3; i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done; exit 3";
    const pid_t child =
        spawn_on_terminal(berth({"-t", task, "web", "sh", "-c", script}), slave, write_end.get());
    BOOST_REQUIRE(child >= 0);
    read_end.reset(); // the reader is gone before berth writes anything
    write_end.reset();
    std::string shown;
    const int status = wait_draining(child, master, shown);
    if (status == -1)
        BOOST_FAIL("berth exec -t with a closed stdout did not finish");
    BOOST_TEST(WIFEXITED(status), "berth died of signal " << WTERMSIG(status));
    BOOST_TEST(WEXITSTATUS(status) == 3);
    termios after{};
    BOOST_REQUIRE(::tcgetattr(slave, &after) == 0);
    BOOST_TEST(after.c_lflag == before.c_lflag); // out of raw mode again
}

BOOST_AUTO_TEST_SUITE_END()
