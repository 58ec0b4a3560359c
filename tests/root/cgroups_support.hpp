// tests/root/cgroups_support.hpp — shared by the cgroups root tests (hybrid host and v2 VM):
// a fixture owning a fresh berth-test-<pid> cgroup, and workers forked from the (single-threaded)
// test that are moved into the cgroup before they start their work. Everything made here is
// killed and removed in destructors, also when a check fails.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include "cgroups/cgroups.hpp"

namespace berth::test {

// The error text of a failed Result, "" for a success (safe to use in a BOOST_TEST message).
template <class R>
std::string why(const R& result)
{
    return result ? std::string() : result.error().message();
}

inline bool is_root()
{
    return ::geteuid() == 0;
}

// A process forked from the test. It waits until start() (after Cgroup::add), runs `work` and
// exits with its return value. The destructor SIGKILLs and reaps it if it is still around.
class Worker {
public:
    explicit Worker(const std::function<int()>& work)
    {
        int go[2];
        if (::pipe2(go, O_CLOEXEC) < 0)
            return;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(go[1]);
            char byte;
            if (::read(go[0], &byte, 1) != 1)
                ::_exit(120);
            ::_exit(work());
        }
        ::close(go[0]);
        go_ = go[1];
    }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    ~Worker()
    {
        if (go_ >= 0)
            ::close(go_);
        if (pid_ > 0 && !status_) {
            ::kill(pid_, SIGKILL);
            int status;
            ::waitpid(pid_, &status, 0);
        }
    }
    pid_t pid() const { return pid_; }
    bool start()
    {
        const bool ok = ::write(go_, "g", 1) == 1;
        ::close(go_);
        go_ = -1;
        return ok;
    }
    // The wait status, or nullopt if it is still running after `timeout`.
    std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(30))
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!status_) {
            int status;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_)
                status_ = status;
            else if (r < 0 || std::chrono::steady_clock::now() > deadline)
                break;
            else
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return status_;
    }

private:
    pid_t pid_ = -1;
    int go_ = -1;
    std::optional<int> status_;
};

// One cgroup below /berth-test-<pid>/, destroyed (processes killed, directories removed, the
// berth-test parent too when empty) in the destructor.
struct TestCgroup {
    std::optional<cgroups::Cgroup> cgroup;
    std::string path;

    explicit TestCgroup(const std::string& name)
        : path("/berth-test-" + std::to_string(::getpid()) + "/" + name)
    {
        auto created = cgroups::Cgroup::create(path);
        if (!created)
            throw std::runtime_error("create " + path + ": " + created.error().message());
        cgroup.emplace(std::move(*created));
    }
    ~TestCgroup()
    {
        if (cgroup)
            (void)cgroup->destroy();
    }
    cgroups::Cgroup& operator*() { return *cgroup; }
    cgroups::Cgroup* operator->() { return &*cgroup; }
};

// Shared memory visible to the test and its workers (MAP_SHARED survives fork).
template <class T>
struct Shared {
    T* value = static_cast<T*>(
        ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    Shared() { new (value) T{}; }
    ~Shared() { ::munmap(value, sizeof(T)); }
};

// ---- Work done inside the cgroup (in the forked worker; the test is single-threaded). ----

// Allocates and touches `mib` MiB; returns 0 if it survived, then sleeps `hold_ms` first.
inline int touch_memory(std::size_t mib, int hold_ms = 0)
{
    const std::size_t size = mib << 20;
    const int flags = MAP_PRIVATE | MAP_ANONYMOUS;
    // cppcheck-suppress invalidFunctionArg ; fd -1 is what MAP_ANONYMOUS asks for
    void* mapped = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (mapped == MAP_FAILED)
        return 2;
    auto* p = static_cast<char*>(mapped);
    for (std::size_t i = 0; i < size; i += 4096)
        p[i] = 1;
    if (hold_ms > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
    return 0;
}

struct ForkResult {
    int forked = 0;
    int error = 0;
};

// Forks sleeping children until fork fails; records how many succeeded and the errno.
inline int fork_until_failure(ForkResult* result)
{
    for (int i = 0; i < 1000; ++i) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::pause();
            ::_exit(0);
        }
        if (pid < 0) {
            result->error = errno;
            return 0;
        }
        result->forked++;
    }
    return 1;
}

inline int busy_loop(std::chrono::milliseconds wall)
{
    const auto end = std::chrono::steady_clock::now() + wall;
    volatile unsigned long n = 0;
    while (std::chrono::steady_clock::now() < end)
        n = n + 1;
    return 0;
}

inline int count_forever(std::atomic<unsigned long>* counter)
{
    for (;;)
        counter->fetch_add(1, std::memory_order_relaxed);
}

// 0: /dev/null opens and /dev/zero is refused with EPERM; otherwise a code saying what failed.
inline int open_devices()
{
    const int null = ::open("/dev/null", O_RDWR);
    if (null < 0)
        return 10;
    ::close(null);
    const int zero = ::open("/dev/zero", O_RDONLY);
    if (zero >= 0) {
        ::close(zero);
        return 11;
    }
    return errno == EPERM ? 0 : 12;
}

inline bool killed_by(std::optional<int> status, int signal)
{
    return status && WIFSIGNALED(*status) && WTERMSIG(*status) == signal;
}

inline bool exited_with(std::optional<int> status, int code)
{
    return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
}

} // namespace berth::test
