// tests/root/supervisor_process.hpp — a berth-supervisor this test started (the build tree's,
// $BERTH_BUILD_ROOT or ./build) on a socket path, shared by the supervisor tests. Killed
// (SIGKILL, by its pid only) and reaped by kill() and when it goes out of scope.
#pragma once
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include "base/fd.hpp"

namespace berth::test {

class SupervisorProcess {
public:
    SupervisorProcess() = default;
    ~SupervisorProcess() { kill(); }
    SupervisorProcess(const SupervisorProcess&) = delete;
    SupervisorProcess& operator=(const SupervisorProcess&) = delete;

    // Starts it on socket (a stale one is removed first); true once it listens there (a connect
    // succeeds; 5 s): the socket file exists from bind(), before it listens.
    bool start(const std::string& socket)
    {
        kill();
        const char* build = std::getenv("BERTH_BUILD_ROOT");
        const std::string exe =
            std::string(build ? build : "build") + "/runtime/cli/berth-supervisor";
        (void)::unlink(socket.c_str());
        pid_ = ::fork();
        if (pid_ == 0) {
            ::execl(exe.c_str(), exe.c_str(), "--socket", socket.c_str(), nullptr);
            ::_exit(127);
        }
        return pid_ > 0 && listening(socket);
    }
    static bool listening(const std::string& path)
    {
        for (int i = 0; i < 500; ++i) {
            const Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            path.copy(addr.sun_path, sizeof addr.sun_path - 1);
            if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }
    void kill()
    {
        if (pid_ <= 0)
            return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
};

} // namespace berth::test
