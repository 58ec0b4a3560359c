// berth-supervisor's pid file (issue 17): a recorded supervisor is recognised by pid, start time
// and boot id, so a pid the kernel gave to another process since, even another berth-supervisor
// (another node's, in its own runtime dir), no longer blocks the start with EBUSY; the real one
// still does. Real supervisors, started by ensure_supervisor_in in the test's own directories
// and killed by pid at the end.
#define BOOST_TEST_MODULE supervisor_pid
#include <boost/test/unit_test.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include "agent/daemon/pure.hpp"
#include "tests/support/bundle.hpp"

namespace fs = std::filesystem;
using berth::daemon::PidRecord;

namespace {

std::string read_all(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_all(const std::string& path, const std::string& text)
{
    std::ofstream(path, std::ios::trunc) << text;
}

berth::daemon::Options options(bool spawn)
{
    berth::daemon::Options o;
    const char* build = std::getenv("BERTH_BUILD_ROOT");
    o.supervisor_binary = std::string(build ? build : "build") + "/runtime/cli/berth-supervisor";
    o.spawn_supervisor = spawn;
    return o;
}

// A supervisor of its own runtime dir, killed (it is ours) when the test ends.
struct Supervisor {
    berth::test::TempDir dir{"berth-supervisor-pid"};
    PidRecord record;
    Supervisor()
    {
        const auto o = options(true);
        BOOST_TEST_REQUIRE(fs::exists(o.supervisor_binary), o.supervisor_binary);
        const auto started = berth::daemon::ensure_supervisor_in(o, dir.path());
        BOOST_TEST_REQUIRE(started.has_value(), (started ? "" : started.error().message()));
        const auto parsed =
            berth::daemon::parse_pid_record(read_all(dir.path() + "/supervisor.pid"));
        BOOST_TEST_REQUIRE(parsed.has_value());
        record = *parsed;
    }
    ~Supervisor()
    {
        if (record.pid > 0)
            ::kill(static_cast<pid_t>(record.pid), SIGKILL);
    }
};

// ensure_supervisor_in on a directory whose pid file says `text` and whose socket is dead.
int start_code(const std::string& text)
{
    berth::test::TempDir other{"berth-supervisor-stale"};
    write_all(other.path() + "/supervisor.pid", text);
    const auto r = berth::daemon::ensure_supervisor_in(options(false), other.path());
    return r ? 0 : r.error().code;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_started_supervisors_pid_file_records_its_start_time_and_boot)
{
    Supervisor s;
    const auto stat = read_all("/proc/" + std::to_string(s.record.pid) + "/stat");
    BOOST_TEST((s.record.start_time == berth::daemon::proc_start_time(stat)));
    const auto boot = read_all("/proc/sys/kernel/random/boot_id");
    BOOST_TEST(s.record.boot_id == boot.substr(0, boot.find('\n')));
}

BOOST_AUTO_TEST_CASE(the_recorded_live_supervisor_blocks_a_second_start_with_ebusy)
{
    Supervisor s;
    // Its socket is elsewhere: to the stale directory it is alive but does not answer.
    BOOST_TEST(start_code(berth::daemon::pid_record_text(s.record)) == EBUSY);
}

BOOST_AUTO_TEST_CASE(a_reused_pid_with_another_start_time_or_boot_is_not_the_recorded_supervisor)
{
    Supervisor s;
    auto later = s.record;
    later.start_time = *s.record.start_time + 1; // the same pid, a later process
    BOOST_TEST(start_code(berth::daemon::pid_record_text(later)) == ECONNREFUSED);
    auto rebooted = s.record;
    rebooted.boot_id = "00000000-0000-4000-8000-000000000000"; // the file outlived a reboot
    BOOST_TEST(start_code(berth::daemon::pid_record_text(rebooted)) == ECONNREFUSED);
}

BOOST_AUTO_TEST_CASE(a_pid_file_of_an_older_berthd_is_still_checked_by_name)
{
    Supervisor s;
    BOOST_TEST(start_code(std::to_string(s.record.pid) + "\n") == EBUSY);
    BOOST_TEST(start_code(std::to_string(::getpid()) + "\n") == ECONNREFUSED); // not a supervisor
    BOOST_TEST(start_code("garbage\n") == ECONNREFUSED);
}
