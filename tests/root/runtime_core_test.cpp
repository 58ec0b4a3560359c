// tests/root/runtime_core_test.cpp — the runtime library's API driven directly (no CLI), as
// root on this host: busybox bundles in mkdtemp directories, a mkdtemp state root, cgroups under
// "/berth-test-<pid>-<n>". Each check looks from inside the container (its /proc/self/status,
// mountinfo, fds) and each test verifies that nothing is left behind.
#define BOOST_TEST_MODULE runtime_core
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <boost/test/unit_test.hpp>
#include "runtime/runtime.hpp"
#include "tests/support/bundle.hpp"
#include "tests/support/console.hpp"
#include "tests/support/privileges.hpp"
#include "tests/support/runner.hpp"

namespace utf = boost::unit_test;
namespace fs = std::filesystem;
namespace rt = berth::runtime;
using berth::test::Bundle;
using berth::test::TempDir;
using namespace std::chrono_literals;

namespace {

std::string read_all(int fd)
{
    std::string data;
    char buffer[8192];
    off_t offset = 0;
    for (;;) {
        const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
        if (n <= 0)
            return data;
        data.append(buffer, static_cast<std::size_t>(n));
        offset += n;
    }
}

struct Ran {
    int status = -1;
    std::string out, err, error; // error: the Result's message when it failed
    bool ok() const { return error.empty(); }
};

// A state root and a counter of ids; every container is force-deleted at the end and the
// state root must then be empty.
struct Fixture {
    TempDir state{"berth-core-state"};
    rt::Options options;
    Bundle bundle;
    std::vector<std::string> ids;
    berth::Fd out{::memfd_create("out", MFD_CLOEXEC)}, err{::memfd_create("err", MFD_CLOEXEC)};

    Fixture()
    {
        options.root = state.path() + "/root";
        bundle.config["process"]["noNewPrivileges"] = true;
    }
    ~Fixture()
    {
        for (const auto& id : ids)
            (void)rt::remove(options, id, true);
        BOOST_TEST(berth::test::list_dir(options.root).empty());
        BOOST_TEST(!berth::test::cgroup_exists(bundle.cgroups_path()));
    }
    std::string new_id(const std::string& hint)
    {
        ids.push_back(hint + "-" + std::to_string(::getpid()) + "-" + std::to_string(ids.size()));
        return ids.back();
    }
    rt::CreateOptions create_options(const std::string& id)
    {
        rt::CreateOptions co;
        co.id = id;
        co.bundle = bundle.dir();
        co.stdin_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        co.stdout_fd = out.get();
        co.stderr_fd = err.get();
        return co;
    }
    std::string output() const { return read_all(out.get()); }
    // Runs args in the foreground, returning status and output.
    Ran run(std::vector<std::string> args)
    {
        bundle.set_args(std::move(args));
        bundle.write();
        ::ftruncate(out.get(), 0);
        ::ftruncate(err.get(), 0);
        auto co = create_options(new_id("run"));
        auto r = rt::run(options, co, false);
        ::close(co.stdin_fd);
        Ran ran;
        if (r)
            ran.status = *r;
        else
            ran.error = r.error().message();
        ran.out = read_all(out.get());
        ran.err = read_all(err.get());
        return ran;
    }
    // sh -c script; the test fails with the runtime's error if it did not run.
    std::string sh(const std::string& script)
    {
        auto r = run({"sh", "-c", script});
        BOOST_TEST_REQUIRE(r.ok(), r.error);
        BOOST_TEST(r.status == 0, "exit " << r.status << " stderr: " << r.err);
        return r.out;
    }
};

std::string status_line(const std::string& status, const std::string& key)
{
    const auto at = status.find(key + ":");
    if (at == std::string::npos)
        return "";
    const auto end = status.find('\n', at);
    auto value = status.substr(at + key.size() + 1, end - at - key.size() - 1);
    return std::string(berth::trim(value));
}

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_core, *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(run_echo_prints_and_returns_zero, Fixture)
{
    auto r = run({"echo", "hello from berth"});
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.out == "hello from berth\n");
}

BOOST_FIXTURE_TEST_CASE(run_returns_the_exit_code, Fixture)
{
    auto r = run({"sh", "-c", "exit 7"});
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.status == 7);
}

BOOST_FIXTURE_TEST_CASE(killed_process_reports_128_plus_signal, Fixture)
{
    auto r = run({"sh", "-c", "kill -9 $$"});
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.status == 128 + SIGKILL);
}

BOOST_FIXTURE_TEST_CASE(missing_binary_is_an_exec_error, Fixture)
{
    auto r = run({"/no/such/binary"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("exec") != std::string::npos, r.error);
    BOOST_TEST(r.error.find("No such file") != std::string::npos, r.error);
}

BOOST_FIXTURE_TEST_CASE(process_sees_its_capabilities_no_new_privs_and_seccomp, Fixture)
{
    bundle.config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"uname"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    const auto status = sh("cat /proc/self/status; uname -n || echo uname-blocked");
    // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29) from the default config.
    BOOST_TEST(status_line(status, "CapEff") == "0000000020000420");
    BOOST_TEST(status_line(status, "CapBnd") == "0000000020000420");
    // Ambient needs inheritable, which the default config leaves empty (runc shows 0 as well).
    BOOST_TEST(status_line(status, "CapAmb") == "0000000000000000");
    BOOST_TEST(status_line(status, "NoNewPrivs") == "1");
    BOOST_TEST(status_line(status, "Seccomp") == "2");
    BOOST_TEST(status.find("uname-blocked") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(seccomp_without_no_new_privs_is_loaded_before_dropping_caps, Fixture)
{
    bundle.config["process"]["noNewPrivileges"] = false;
    bundle.config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"uname"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    const auto status = sh("cat /proc/self/status; uname -n || echo uname-blocked");
    BOOST_TEST(status_line(status, "NoNewPrivs") == "0");
    BOOST_TEST(status_line(status, "Seccomp") == "2");
    BOOST_TEST(status.find("uname-blocked") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(hostname_rlimits_user_cwd_and_env_apply, Fixture)
{
    bundle.config["hostname"] = "berth-box";
    bundle.config["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 321}, {"hard", 654}}};
    bundle.config["process"]["user"] = {{"uid", 1234}, {"gid", 5678}, {"additionalGids", {42}}};
    bundle.config["process"]["cwd"] = "/tmp";
    bundle.config["process"]["env"].push_back("GREETING=hi there");
    bundle.config["root"]["readonly"] = false;
    const auto out = sh("hostname; ulimit -n; ulimit -Hn; id -u; id -g; id -G; pwd; "
                        "echo \"$GREETING\"");
    BOOST_TEST(out == "berth-box\n321\n654\n1234\n5678\n5678 42\n/tmp\nhi there\n");
}

BOOST_FIXTURE_TEST_CASE(masked_paths_are_unreadable_and_readonly_paths_are_read_only, Fixture)
{
    const auto out = sh("cat /proc/kcore | wc -c; ls /sys/firmware | wc -l; "
                        "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null || echo ro-sys; "
                        "touch /newfile 2>/dev/null || echo ro-root");
    BOOST_TEST(out == "0\n0\nro-sys\nro-root\n");
}

BOOST_FIXTURE_TEST_CASE(mount_flags_show_in_mountinfo, Fixture)
{
    const auto out = sh("cat /proc/self/mountinfo");
    auto line_of = [&](const std::string& point) {
        std::istringstream lines(out);
        std::string line;
        while (std::getline(lines, line))
            if (line.find(" " + point + " ") != std::string::npos)
                return line;
        return std::string();
    };
    BOOST_TEST(line_of("/").find(" ro,") != std::string::npos, line_of("/"));
    BOOST_TEST(line_of("/sys").find("ro,nosuid,nodev,noexec") != std::string::npos, line_of("/sys"));
    BOOST_TEST(line_of("/dev/shm").find("nosuid,nodev,noexec") != std::string::npos);
    BOOST_TEST(line_of("/proc/sys").find(" ro,") != std::string::npos, line_of("/proc/sys"));
}

BOOST_FIXTURE_TEST_CASE(no_host_fd_leaks_into_the_container, Fixture)
{
    const int leaked = ::open("/etc/hostname", O_RDONLY); // deliberately without O_CLOEXEC
    BOOST_TEST_REQUIRE(leaked >= 0);
    const auto out = sh("cd /proc/self/fd && echo *");
    ::close(leaked);
    BOOST_TEST(out == "0 1 2\n");
}

BOOST_AUTO_TEST_SUITE_END()
