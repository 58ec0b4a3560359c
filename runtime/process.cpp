// runtime/process.cpp — Child (pidfd-held process) and the parent's end of the sync socket.
#include "runtime/process.hpp"
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/resource.h>
#include <algorithm>
#include <cerrno>
#include "runtime/hooks.hpp"
#include "base/unix_datagram.hpp"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace berth::runtime {

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)), pidfd_(std::move(other.pidfd_))
{
}

Child& Child::operator=(Child&& other) noexcept
{
    if (this != &other) {
        kill_and_reap();
        pid_ = std::exchange(other.pid_, 0);
        pidfd_ = std::move(other.pidfd_);
    }
    return *this;
}

Child::~Child()
{
    kill_and_reap();
}

Result<Child> Child::adopt(pid_t pid)
{
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0)
        return Error::from_errno("pidfd_open ", pid);
    return Child(pid, Fd(fd));
}

void Child::release()
{
    pid_ = 0;
    pidfd_.reset();
}

Fd Child::take_pidfd()
{
    pid_ = 0;
    return std::move(pidfd_);
}

void Child::kill_and_reap() noexcept
{
    if (pid_ <= 0)
        return;
    if (pidfd_.valid()) {
        (void)::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
        siginfo_t info{};
        while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info,
                        WEXITED) < 0 &&
               errno == EINTR) {
        }
    }
    pid_ = 0;
    pidfd_.reset();
}

int decode_wait_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 255;
}

Result<int> Child::wait()
{
    siginfo_t info{};
    while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info,
                    WEXITED) < 0)
        if (errno != EINTR)
            return Error::from_errno("wait for process ", pid_);
    pid_ = 0;
    pidfd_.reset();
    if (info.si_code == CLD_EXITED)
        return info.si_status;
    return 128 + info.si_status;
}

Result<void> Child::signal(int sig) const
{
    if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) < 0)
        return Error::from_errno("signal ", sig, " to process ", pid_);
    return {};
}

Error describe_process_failure(const SyncMessage& m, std::string_view program, std::string_view cwd)
{
    const auto step = static_cast<ChildStep>(m.a);
    switch (step) {
    case ChildStep::Chdir:
    case ChildStep::CwdOutsideRoot:
        return Error::with_code(m.b, step_name(step), " ", berth::quoted(cwd));
    case ChildStep::Exec:
        return Error::with_code(m.b, step_name(step), " ", berth::quoted(program));
    case ChildStep::StartHook:
        return child_hook_error("startContainer", static_cast<std::size_t>(m.c), Hook{}, m.b);
    default: return Error::with_code(m.b, step_name(step));
    }
}

Result<void> check_preserve_fds(unsigned count)
{
    // fs.nr_open's default: no process has more fds than this without a tuned host.
    constexpr rlim_t cap = rlim_t{1} << 20;
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) < 0)
        return Error::from_errno("getrlimit RLIMIT_NOFILE");
    const rlim_t most = std::min(limit.rlim_cur, cap);
    if (count > most - std::min<rlim_t>(most, 3))
        return Error::invalid("preserve fds: ", count, " fds after stdio exceed the limit of ",
                              most, " open files (RLIMIT_NOFILE)");
    return {};
}

Result<Fd> connect_console(const std::string& path)
{
    auto address = unix_path_address(path);
    if (!address)
        return std::move(address).error().wrap("console socket path");
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return Error::from_errno("console socket");
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address->addr), address->length) < 0)
        return Error::from_errno("connect to console socket ", berth::quoted(path));
    return fd;
}

Result<void> send_sync(int fd, SyncType type, int a)
{
    const SyncMessage message{type, a, 0, 0};
    if (::send(fd, &message, sizeof message, MSG_NOSIGNAL) != sizeof message)
        return Error::from_errno("sync with child");
    return {};
}

Result<SyncMessage> receive_sync(int fd)
{
    SyncMessage message{};
    for (;;) {
        const ssize_t n = ::recv(fd, &message, sizeof message, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("sync with child");
        if (n == 0)
            return Error::with_code(ECHILD, "child exited during setup");
        if (n != static_cast<ssize_t>(sizeof message))
            return Error::with_code(EPROTO, "sync with child: short message");
        return message;
    }
}

} // namespace berth::runtime
