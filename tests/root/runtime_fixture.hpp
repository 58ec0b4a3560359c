// tests/root/runtime_fixture.hpp — the one fixture of the runtime library's root tests (the
// library driven directly, no CLI): busybox bundles in mkdtemp directories, a mkdtemp state root,
// output captured in memfds, cgroups under "/berth-test-<pid>-<n>". Every container is
// force-deleted at the end, the children left (inits are ours: CLONE_PARENT) are reaped, and the
// state root and the test cgroup must then be gone. Each check looks from inside the container
// (its /proc/self/status, mountinfo, fds). One test executable includes it once; a test file with
// needs of its own derives from RuntimeFixture (runtime_hostile, _host_safety, _resources).
#pragma once
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <boost/test/unit_test.hpp>
#include "runtime/runtime.hpp"
#include "tests/support/bundle.hpp"
#include "tests/support/console.hpp"
#include "tests/support/privileges.hpp"
#include "tests/support/runner.hpp"

namespace utf = boost::unit_test;
namespace fs = std::filesystem;
namespace rt = berth::runtime;
using namespace std::chrono_literals;

namespace berth::test {

// Everything written to fd so far (pread from 0: the shared offset is left alone).
inline std::string read_all(int fd)
{
    std::string data;
    char buffer[8192];
    for (off_t offset = 0;;) {
        const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
        if (n <= 0)
            return data;
        data.append(buffer, static_cast<std::size_t>(n));
        offset += n;
    }
}

inline std::string read_text(const std::string& path)
{
    // A /proc file of a process that ends mid-read fails with ESRCH, which libstdc++ throws from
    // the stream buffer: read as "" (gone), like a file that cannot be opened.
    try {
        std::ifstream in(path);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } catch (const std::ios_base::failure&) {
        return {};
    }
}

inline void write_text(const std::string& path, const std::string& text)
{
    std::ofstream(path) << text;
}

// The error text of a failed Result, "" for a success (Boost evaluates messages eagerly).
template <class R>
std::string why(const R& r)
{
    return r ? std::string() : r.error().message();
}

struct Ran {
    int status = -1;
    std::string out, err, error; // error: the Result's message when it failed
    bool ok() const { return error.empty(); }
};

inline void remove_namespace(nlohmann::json& config, const std::string& type)
{
    auto& namespaces = config["linux"]["namespaces"];
    for (auto it = namespaces.begin(); it != namespaces.end(); ++it)
        if ((*it)["type"] == type) {
            namespaces.erase(it);
            return;
        }
}

inline void remove_mount(nlohmann::json& config, const std::string& destination)
{
    auto& mounts = config["mounts"];
    for (auto it = mounts.begin(); it != mounts.end(); ++it)
        if ((*it)["destination"] == destination) {
            mounts.erase(it);
            return;
        }
}

struct RuntimeFixture {
    TempDir state;
    rt::Options options;
    Bundle bundle;
    std::vector<std::string> ids;
    std::string last_err; // the stderr of the last run()
    int signal_fd = -1;   // run(): CreateOptions::signal_fd
    Fd out{::memfd_create("out", MFD_CLOEXEC)}, err{::memfd_create("err", MFD_CLOEXEC)};

    explicit RuntimeFixture(const std::string& state_prefix = "berth-runtime-state")
        : state(state_prefix)
    {
        options.root = state.path() + "/root";
        options.cgroups_outside_root = true; // the test cgroups are top-level "/berth-test-..."
    }
    ~RuntimeFixture()
    {
        for (const auto& id : ids)
            (void)rt::remove(options, id, true);
        while (::waitpid(-1, nullptr, WNOHANG) > 0) { // inits and exec'd processes are our children
        }
        BOOST_TEST(list_dir(options.root).empty());
        BOOST_TEST(!cgroup_exists(bundle.cgroups_path()));
    }
    RuntimeFixture(const RuntimeFixture&) = delete;
    RuntimeFixture& operator=(const RuntimeFixture&) = delete;

    std::string new_id(const std::string& hint)
    {
        ids.push_back(hint + "-" + std::to_string(::getpid()) + "-" + std::to_string(ids.size()));
        return ids.back();
    }
    // stdin is a new /dev/null descriptor the caller closes; stdout and stderr the memfds.
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
    // rt::create of the bundle as `id` (create_options), which must succeed: its state.
    rt::State must_create(const std::string& id)
    {
        auto co = create_options(id);
        auto created = rt::create(options, co);
        ::close(co.stdin_fd);
        BOOST_TEST_REQUIRE(created.has_value(), why(created));
        return std::move(*created);
    }
    // The same through the handle API: the container.
    rt::Container must_create_container(const std::string& id)
    {
        auto co = create_options(id);
        auto c = rt::Container::create(options, co);
        ::close(co.stdin_fd);
        BOOST_TEST_REQUIRE(c.has_value(), why(c));
        return std::move(*c);
    }
    // A process.terminal container created with its pty master sent to `console`, then started:
    // the master and the init's pid.
    struct OnConsole {
        Fd master;
        pid_t pid = -1;
    };
    OnConsole start_on_console(const std::string& id, ConsoleSocket& console)
    {
        rt::CreateOptions co;
        co.id = id;
        co.bundle = bundle.dir();
        co.console_socket = console.path();
        auto created = rt::create(options, co);
        BOOST_TEST_REQUIRE(created.has_value(), why(created));
        auto master = console.receive(5s);
        BOOST_TEST_REQUIRE(master.valid());
        BOOST_TEST_REQUIRE(rt::start(options, id).has_value());
        return {std::move(master), created->pid};
    }
    std::string output() const { return read_all(out.get()); }
    // Runs args in the foreground, returning status and output.
    Ran run(const std::vector<std::string>& args)
    {
        bundle.set_args(args);
        bundle.write();
        // The container writes at the shared file offset: rewind it as well.
        for (const int fd : {out.get(), err.get()}) {
            ::ftruncate(fd, 0);
            ::lseek(fd, 0, SEEK_SET);
        }
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

// A process parked in fresh namespaces (CLONE_NEW* flags), to be joined by path. Killed and
// reaped by the destructor, which ends the namespaces with it.
struct NamespaceHolder {
    pid_t pid = -1;
    explicit NamespaceHolder(int flags)
    {
        int ready[2];
        BOOST_TEST_REQUIRE(::pipe(ready) == 0);
        pid = ::fork();
        if (pid == 0) {
            if (::unshare(flags) < 0)
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
    ~NamespaceHolder()
    {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    NamespaceHolder(const NamespaceHolder&) = delete;
    NamespaceHolder& operator=(const NamespaceHolder&) = delete;
    std::string path(const std::string& type) const
    {
        return "/proc/" + std::to_string(pid) + "/ns/" + type;
    }
    // "mnt:[4026532000]", as readlink /proc/self/ns/mnt prints it inside the container.
    std::string link(const std::string& type) const
    {
        char buf[128] = {};
        const ssize_t n = ::readlink(path(type).c_str(), buf, sizeof buf - 1);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }
    ino_t inode(const std::string& type) const
    {
        struct stat st {};
        ::stat(path(type).c_str(), &st);
        return st.st_ino;
    }
};

} // namespace berth::test
