#include "tests/support/process.hpp"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <thread>
#include "base/files.hpp"

namespace berth::test {
namespace {

Fd make_memfd(const char* name)
{
    return Fd(::memfd_create(name, MFD_CLOEXEC));
}

std::string read_memfd(const Fd& fd)
{
    std::string data;
    char buffer[8192];
    off_t offset = 0;
    for (;;) {
        const ssize_t n = ::pread(fd.get(), buffer, sizeof buffer, offset);
        if (n <= 0)
            return data;
        data.append(buffer, static_cast<std::size_t>(n));
        offset += n;
    }
}

int decode_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

} // namespace

Command::Command(pid_t pid, Fd pidfd, Fd out, Fd err)
    : pid_(pid), pidfd_(std::move(pidfd)), out_(std::move(out)), err_(std::move(err))
{
}

Command::Command(Command&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)),
      out_(std::move(other.out_)), err_(std::move(other.err_))
{
}

Command Command::start(const std::vector<std::string>& argv)
{
    Fd out = make_memfd("stdout");
    Fd err = make_memfd("stderr");
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& arg : argv)
        args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_adddup2(&actions, out.get(), 1);
    ::posix_spawn_file_actions_adddup2(&actions, err.get(), 2);
    posix_spawnattr_t attributes;
    ::posix_spawnattr_init(&attributes);
    sigset_t none; // the test may block signals; the runtime must start with a clean mask
    ::sigemptyset(&none);
    ::posix_spawnattr_setsigmask(&attributes, &none);
    ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attributes);
    if (rc != 0) {
        const std::string message = "spawn failed: " + join_argv(argv) + "\n";
        (void)::write(err.get(), message.data(), message.size());
        return Command(-1, Fd(), std::move(out), std::move(err));
    }
    return Command(pid, Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))), std::move(out),
                   std::move(err));
}

Command::~Command()
{
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL); // our own child, by pid, not yet reaped: cannot be recycled
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

std::string Command::out() const
{
    return read_memfd(out_);
}
std::string Command::err() const
{
    return read_memfd(err_);
}

bool Command::wait_for_output(std::string_view needle, std::chrono::milliseconds timeout) const
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (out().find(needle) != std::string::npos)
            return true;
        std::this_thread::sleep_for(5ms);
    }
    return out().find(needle) != std::string::npos;
}

Output Command::wait(std::chrono::milliseconds timeout)
{
    Output output;
    if (pid_ <= 0) {
        output.err = err();
        return output;
    }
    pollfd pfd{pidfd_.get(), POLLIN, 0};
    int ready;
    do
        ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    while (ready < 0 && errno == EINTR);
    if (ready == 0) {
        output.timed_out = true;
        ::kill(pid_, SIGKILL);
    }
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    output.status = decode_status(status);
    output.out = out();
    output.err = err();
    return output;
}

Output run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout)
{
    return Command::start(argv).wait(timeout);
}

std::string join_argv(const std::vector<std::string>& argv)
{
    std::string text;
    for (const auto& arg : argv) {
        if (!text.empty())
            text += ' ';
        const bool plain = !arg.empty() && arg.find_first_of(" '\"\\$\t\n") == std::string::npos;
        text += plain ? arg : "'" + arg + "'";
    }
    return text;
}

} // namespace berth::test
