// tests/root/runtime_fixture.hpp — the fixture shared by the runtime library's root tests
// (runtime_process, runtime_mounts, runtime_namespaces, runtime_lifecycle): busybox bundles in
// mkdtemp directories, a mkdtemp state root, cgroups under "/berth-test-<pid>-<n>". Each check
// looks from inside the container (its /proc/self/status, mountinfo, fds) and each test verifies
// that nothing is left behind. One test executable includes it once.
#pragma once
#include <fcntl.h>
#include <algorithm>
#include <pthread.h>
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

inline std::string read_all(int fd)
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

// The error text of a failed Result, "" for a success (Boost evaluates messages eagerly).
template <class R>
inline std::string why(const R& r)
{
    return r ? std::string() : r.error().message();
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
    std::string last_err;
    int signal_fd = -1; // run(): CreateOptions::signal_fd
    berth::Fd out{::memfd_create("out", MFD_CLOEXEC)}, err{::memfd_create("err", MFD_CLOEXEC)};

    Fixture()
    {
        options.root = state.path() + "/root";
        options.cgroups_outside_root = true; // the test cgroups are top-level "/berth-test-..."
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
    Ran run(const std::vector<std::string>& args)
    {
        bundle.set_args(args);
        bundle.write();
        ::ftruncate(out.get(), 0);
        ::ftruncate(err.get(), 0);
        auto co = create_options(new_id("run"));
        co.signal_fd = signal_fd;
        auto r = rt::run(options, co, false);
        ::close(co.stdin_fd);
        Ran ran;
        if (r)
            ran.status = *r;
        else
            ran.error = r.error().message();
        ran.out = read_all(out.get());
        ran.err = read_all(err.get());
        last_err = ran.err;
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

inline std::string status_line(const std::string& status, const std::string& key)
{
    const auto at = status.find(key + ":");
    if (at == std::string::npos)
        return "";
    const auto end = status.find('\n', at);
    auto value = status.substr(at + key.size() + 1, end - at - key.size() - 1);
    return std::string(berth::trim(value));
}

// Waits until the container's status is `want` (or the timeout passes).
inline bool wait_status(const rt::Options& options, const std::string& id, rt::Status want)
{
    for (int i = 0; i < 500; ++i) {
        auto s = rt::state(options, id);
        if (s && s->status == want)
            return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

inline void remove_namespace(nlohmann::json& config, const std::string& type)
{
    auto& namespaces = config["linux"]["namespaces"];
    for (auto it = namespaces.begin(); it != namespaces.end(); ++it)
        if ((*it)["type"] == type) {
            namespaces.erase(it);
            return;
        }
}

// A process in a fresh network namespace, for joining that namespace by path. Killed and
// reaped by the destructor.
struct NetnsHolder {
    pid_t pid = -1;
    NetnsHolder()
    {
        int ready[2];
        BOOST_TEST_REQUIRE(::pipe(ready) == 0);
        pid = ::fork();
        if (pid == 0) {
            if (::unshare(CLONE_NEWNET) < 0)
                ::_exit(1);
            (void)!::write(ready[1], "x", 1);
            ::pause();
            ::_exit(0);
        }
        ::close(ready[1]);
        char c;
        BOOST_TEST_REQUIRE(::read(ready[0], &c, 1) == 1);
        ::close(ready[0]);
    }
    ~NetnsHolder()
    {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    std::string path() const { return "/proc/" + std::to_string(pid) + "/ns/net"; }
    ino_t inode() const
    {
        struct stat st {};
        ::stat(path().c_str(), &st);
        return st.st_ino;
    }
};
