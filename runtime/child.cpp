// runtime/child.cpp — from fork() to execve(): the overview, and what every child-side file
// shares (the sync socket's messages, hooks, signal reset). The stage is child_stage.cpp, the
// container's init child_init.cpp, the process setup up to execve child_process.cpp (shared by
// create and exec); read them in that order.
//
// Async-signal-safe throughout: the caller (the agent) has threads, so only raw system calls
// here: no malloc, no std::string, no locks, no exceptions, no logging. Everything was prepared
// by the parent as plain data in a ChildPlan (child_plan.hpp). Each failure is reported on the
// sync socket as {step, errno, index} and the process exits 127; the parent names the step.
//
// Processes: the caller forks a short-lived "stage" that setns()es into the namespaces given by
// path, then clone()s the container's init with CLONE_PARENT and the new-namespace flags, so the
// init is the caller's own child (waitable, pidfd-able) and starts inside the joined namespaces
// (setns of a pid namespace only applies to children, hence the extra process).
//
// CVE-2019-5736 (overwriting the runtime binary through /proc/<pid>/exe): the init never
// re-executes the runtime ("runc init"); it runs this code as a forked copy and execs the user's
// binary directly, so no process in the container ever has our binary as its /proc/self/exe
// once it runs container code. Before exec the container process is non-dumpable: a forked
// stage sets PR_SET_DUMPABLE 0 as its first act, and the init and the exec'd process as theirs.
// A stage sharing the caller's memory (spawn.cpp) leaves the caller's flag alone, so the process
// it clones is dumpable until that first act, except when it is in another user namespace (the
// case where the flag alone guards it): then the stage forks and is non-dumpable first, so the
// process is born non-dumpable (spawn.hpp, stage_needs). So /proc/<pid>/exe and /proc/<pid>/mem of
// the processes still holding the runtime image cannot be opened by a container process, and exec
// into a container that is only "created" (its init still runs our image) is refused.
//
// Fds: the stage closes every fd but the plan's keep-list first (runtime/fds.hpp), so nothing
// the caller had open (other containers' locks, sockets) reaches a container.
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include "runtime/child_plan.hpp"
#include "runtime/fds.hpp"
#include "runtime/child_internal.hpp"

namespace berth::runtime {

namespace {

// The state JSON for createContainer hooks (status "creating") and startContainer hooks
// ("created"): sent by the parent once the pid is known. Static buffers: the child may not
// allocate.
char g_state_json[64 * 1024], g_start_json[64 * 1024];
std::size_t g_state_json_len = 0, g_start_json_len = 0;

void receive_state_json(int sync_fd, char* buffer, std::size_t size, std::size_t* len) noexcept
{
    for (;;) {
        const ssize_t n = ::recv(sync_fd, buffer, size, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            ::_exit(126);
        *len = static_cast<std::size_t>(n);
        return;
    }
}

} // namespace

void send_message(int sync_fd, SyncType type, int a, int b, int c) noexcept
{
    const SyncMessage message{type, a, b, c};
    // MSG_NOSIGNAL: after create returned nobody listens, and SIGPIPE would kill us silently.
    (void)!::send(sync_fd, &message, sizeof message, MSG_NOSIGNAL);
}

// Waits for one message of `type` from the parent; EOF (the parent died) ends the child.
void expect(int sync_fd, SyncType type) noexcept
{
    SyncMessage message{};
    for (;;) {
        const ssize_t n = ::recv(sync_fd, &message, sizeof message, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != static_cast<ssize_t>(sizeof message) || message.type != type)
            ::_exit(126);
        return;
    }
}

void receive_hook_states(int sync_fd) noexcept
{
    receive_state_json(sync_fd, g_state_json, sizeof g_state_json, &g_state_json_len);
    receive_state_json(sync_fd, g_start_json, sizeof g_start_json, &g_start_json_len);
}

void run_hooks(int sync_fd, const HookPlan* hooks, std::size_t count, ChildStep step) noexcept
{
    const bool start = step == ChildStep::StartHook;
    for (std::size_t i = 0; i < count; ++i) {
        const int r = run_hook_raw(hooks[i], start ? g_start_json : g_state_json,
                                   start ? g_start_json_len : g_state_json_len);
        if (r == -2)
            errno = ETIMEDOUT;
        else if (r > 0)
            errno = -r; // it ran and failed: a negative "errno" carries its wait status (hooks.hpp)
        if (r != 0)
            child_fail(sync_fd, step, static_cast<int>(i));
    }
}

// Every signal back to its default action, none blocked: an ignored disposition and the blocked
// mask survive execve, and the caller may have either (an agent that blocks signals for its
// signalfd, run/exec holding them to forward, a shell that ignores SIGPIPE). runc and crun
// reset them the same way. Handlers would be reset by execve anyway.
void reset_signals() noexcept
{
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)::sigaction(sig, &default_action, nullptr); // glibc's reserved ones: EINVAL
    sigset_t none;
    sigemptyset(&none);
    (void)::sigprocmask(SIG_SETMASK, &none, nullptr);
}

[[noreturn]] void child_fail(int sync_fd, ChildStep step, int index) noexcept
{
    const int error = errno;
    send_message(sync_fd, SyncType::Failure, static_cast<int>(step), error, index);
    ::_exit(127);
}

int run_hook_raw(const HookPlan& hook, const char* state_json, std::size_t len) noexcept
{
    int sv[2] = {-1, -1}, report[2] = {-1, -1};
    // A socket, not a pipe: send(MSG_NOSIGNAL) cannot SIGPIPE us if the hook ignores stdin.
    // The hook's exec errno comes back on report (close-on-exec: nothing once the exec worked).
    const pid_t pid = ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
                              ::pipe2(report, O_CLOEXEC) < 0
                          ? -1
                          : static_cast<pid_t>(::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
    if (pid < 0) {
        const int saved = errno;
        for (const int fd : {sv[0], sv[1], report[0], report[1]})
            if (fd >= 0)
                ::close(fd);
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        reset_signals();
        if (::dup2(sv[1], 0) >= 0)
            ::execve(hook.path, hook.argv, hook.envp);
        const int error = errno;
        (void)!::write(report[1], &error, sizeof error);
        ::_exit(127);
    }
    ::close(sv[1]);
    ::close(report[1]);
    (void)!::send(sv[0], state_json, len, MSG_NOSIGNAL);
    ::close(sv[0]);
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    bool timed_out = false;
    if (pidfd >= 0 && hook.timeout_s > 0) {
        pollfd p{pidfd, POLLIN, 0};
        int r;
        do
            r = ::poll(&p, 1, hook.timeout_s * 1000);
        while (r < 0 && errno == EINTR);
        if (r == 0) {
            timed_out = true;
            ::kill(pid, SIGKILL);
        }
    }
    if (pidfd >= 0)
        ::close(pidfd);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            ::close(report[0]);
            return -1;
        }
    int exec_error = 0;
    const bool not_run = ::read(report[0], &exec_error, sizeof exec_error) == sizeof exec_error;
    ::close(report[0]);
    if (timed_out)
        return -2;
    if (not_run) {
        errno = exec_error; // "No such file or directory", not "exited with status 127"
        return -1;
    }
    return status;
}

} // namespace berth::runtime
