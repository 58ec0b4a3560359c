// tests/root/container_fixture.hpp — the runtime library driven directly (no CLI) as root:
// a busybox bundle, a mkdtemp state root, output captured in memfds. Every container is
// force-deleted at the end and the state root and test cgroup must then be gone. Shared by
// runtime_conformance_test.cpp and runtime_mounts_test.cpp.
#pragma once
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fstream>
#include <string>
#include <vector>
#include <boost/test/unit_test.hpp>
#include "runtime/runtime.hpp"
#include "tests/support/bundle.hpp"
#include "tests/support/runner.hpp"

namespace berth::test {

namespace rt = berth::runtime;

inline std::string read_fd_all(int fd)
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

inline std::string read_text(const std::string& path)
{
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
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

struct ContainerFixture {
    TempDir state{"berth-conf-state"};
    rt::Options options;
    Bundle bundle;
    std::vector<std::string> ids;
    Fd out{::memfd_create("out", MFD_CLOEXEC)}, err{::memfd_create("err", MFD_CLOEXEC)};

    ContainerFixture()
    {
        options.root = state.path() + "/root";
        options.cgroups_outside_root = true; // the test cgroups are top-level "/berth-test-..."
        bundle.config["process"]["noNewPrivileges"] = true;
    }
    ~ContainerFixture()
    {
        for (const auto& id : ids)
            (void)rt::remove(options, id, true);
        BOOST_TEST(list_dir(options.root).empty());
        BOOST_TEST(!cgroup_exists(bundle.cgroups_path()));
    }
    ContainerFixture(const ContainerFixture&) = delete;
    ContainerFixture& operator=(const ContainerFixture&) = delete;

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
        auto r = rt::run(options, co, false);
        ::close(co.stdin_fd);
        Ran ran;
        if (r)
            ran.status = *r;
        else
            ran.error = r.error().message();
        ran.out = read_fd_all(out.get());
        ran.err = read_fd_all(err.get());
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
};

} // namespace berth::test
