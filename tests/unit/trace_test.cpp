// tests/unit/trace_test.cpp — base/trace.hpp: BERTH_TRACE_PHASES=1 prints one line per phase on
// stderr, nothing otherwise. The environment is read once per process, so each case runs in a
// forked child with stderr on a pipe.
#define BOOST_TEST_MODULE trace
#include <boost/test/unit_test.hpp>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>
#include <string>
#include "base/trace.hpp"

namespace {

// Runs two phases in a child with BERTH_TRACE_PHASES set to `value` (unset if null); returns
// what the child wrote on stderr.
std::string traced_output(const char* value)
{
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(fds[1], STDERR_FILENO);
        if (value)
            ::setenv("BERTH_TRACE_PHASES", value, 1);
        else
            ::unsetenv("BERTH_TRACE_PHASES");
        berth::trace::phase("first phase");
        berth::trace::phase("second phase");
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_TEST(WIFEXITED(status));
    return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(phases_print_one_line_each_with_pid_time_and_name_when_enabled)
{
    const auto out = traced_output("1");
    BOOST_TEST_MESSAGE(out);
    const auto first = out.find("berth-phase pid=");
    BOOST_TEST_REQUIRE(first == 0U);
    BOOST_TEST(out.find(" dt_us=0 first phase\n") != std::string::npos);
    BOOST_TEST(out.find(" second phase\n") != std::string::npos);
    BOOST_TEST(out.find(" t_us=") != std::string::npos);
    std::size_t lines = 0;
    for (const char c : out)
        lines += c == '\n' ? 1 : 0;
    BOOST_TEST(lines == 2U);
}

BOOST_AUTO_TEST_CASE(phases_print_nothing_when_the_variable_is_unset_or_not_1)
{
    BOOST_TEST(traced_output(nullptr).empty());
    BOOST_TEST(traced_output("0").empty());
    BOOST_TEST(traced_output("yes").empty());
}
