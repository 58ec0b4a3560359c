// runtime/child_process.cpp — the container's process from its stdio to execve (see child.cpp),
// shared by the init (create) and exec: console, fds, rlimits, credentials in runc's order,
// seccomp, the wait for start, exec. Async-signal-safe: raw system calls only.
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
#include "base/fd_passing.hpp"
#include "runtime/fds.hpp"
#include "runtime/child_internal.hpp"

namespace berth::runtime {

namespace {

// ---- The console: a pty made inside the container's devpts, master sent to the caller. ----

int send_fd(int socket, int fd) noexcept
{
    static const char name[] = "berth-console"; // what runc sends with the fd
    return send_with_fds(socket, name, sizeof name - 1, &fd, 1) < 0 ? -1 : 0;
}

// The pty's peer end, unlocked and sized, or -1.
int open_console_peer(const ProcessPlan& plan, int master) noexcept
{
    int unlock = 0;
    if (::ioctl(master, TIOCSPTLCK, &unlock) < 0)
        return -1;
    // TIOCGPTPEER opens the peer through the master: no path lookup in the container's /dev.
    const int slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0)
        return -1;
    if (plan.rows || plan.cols) {
        winsize ws{plan.rows, plan.cols, 0, 0};
        if (::ioctl(slave, TIOCSWINSZ, &ws) < 0) {
            ::close(slave);
            return -1;
        }
    }
    return slave;
}

// The spec's /dev/console: the pty peer bound over the file setup_rootfs made there.
int bind_console(int slave) noexcept
{
    const int target = ::open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (target < 0)
        return -1;
    const int tree = static_cast<int>(
        ::syscall(SYS_open_tree, slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
    int r = tree < 0
                ? -1
                : static_cast<int>(::syscall(SYS_move_mount, tree, "", target, "",
                                             MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH));
    const int saved = errno;
    if (tree >= 0)
        ::close(tree);
    ::close(target);
    errno = saved;
    return r;
}

int setup_console(const ProcessPlan& plan) noexcept
{
    const int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return -1;
    // The master goes to whoever listens on the console socket; this process keeps only the peer.
    const int slave = open_console_peer(plan, master);
    const int sent = slave < 0 ? -1 : send_fd(plan.console_socket, master);
    ::close(master);
    if (sent < 0) {
        if (slave >= 0)
            ::close(slave);
        return -1;
    }
    ::close(plan.console_socket);
    if (plan.bind_console && bind_console(slave) < 0)
        return -1;
    if (::setsid() < 0 || ::ioctl(slave, TIOCSCTTY, 0) < 0)
        return -1;
    for (int target = 0; target < 3; ++target)
        if (::dup2(slave, target) < 0)
            return -1;
    if (slave > 2)
        ::close(slave);
    return 0;
}

// ---- Credentials, in runc's order: bounding set, keepcaps, groups, gid, uid, caps. ----

int drop_bounding(const ProcessPlan& plan) noexcept
{
    for (int cap = 0; cap <= plan.last_cap; ++cap)
        if (!(plan.bounding & (std::uint64_t{1} << cap)))
            if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                return -1;
    return 0;
}

int raise_ambient(const ProcessPlan& plan) noexcept
{
    for (int cap = 0; cap <= plan.last_cap; ++cap)
        if (plan.ambient & (std::uint64_t{1} << cap))
            // A capability missing from the inheritable set cannot be ambient: EPERM. runc
            // ignores it (its default spec lists ambient caps but no inheritable ones).
            if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM &&
                errno != EINVAL)
                return -1;
    return 0;
}

// chdir, then check that the kernel can name the cwd from our root: a cwd reached through a
// leaked host fd (CVE-2024-21626) shows as "(unreachable)..." or fails.
void enter_cwd(const ProcessPlan& plan, int sync_fd) noexcept
{
    if (::chdir(plan.cwd) < 0)
        child_fail(sync_fd, ChildStep::Chdir);
    char buf[4096];
    const long n = ::syscall(SYS_getcwd, buf, sizeof buf);
    if (n < 0)
        child_fail(sync_fd, ChildStep::Chdir);
    if (buf[0] != '/') {
        errno = EPERM;
        child_fail(sync_fd, ChildStep::CwdOutsideRoot);
    }
}

void set_credentials(const ProcessPlan& plan, int sync_fd) noexcept
{
    if (plan.has_caps && drop_bounding(plan) < 0)
        child_fail(sync_fd, ChildStep::BoundingSet);
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        child_fail(sync_fd, ChildStep::KeepCaps);
    if (::syscall(SYS_setgroups, plan.group_count, plan.groups) < 0)
        child_fail(sync_fd, ChildStep::Setgroups);
    if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) < 0)
        child_fail(sync_fd, ChildStep::Setgid);
    if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) < 0)
        child_fail(sync_fd, ChildStep::Setuid);
    enter_cwd(plan, sync_fd); // after the user switch: the cwd must be reachable as that user
    if (plan.has_caps) {
        auto header = plan.cap_header;
        auto data = plan.cap_data;
        if (::syscall(SYS_capset, &header, data) < 0)
            child_fail(sync_fd, ChildStep::Capset);
        if (raise_ambient(plan) < 0)
            child_fail(sync_fd, ChildStep::AmbientCaps);
    }
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        child_fail(sync_fd, ChildStep::KeepCaps);
}

// Only stdio, the preserved and the mapped fds survive exec: every other fd (the sync socket and
// exec.fifo, all that is left after arrange_process_fds) is marked close-on-exec.
void close_fds(const ProcessPlan& plan, int sync_fd) noexcept
{
    const unsigned passed = 3 + plan.preserve_fds + static_cast<unsigned>(plan.fd_map_count);
    for (unsigned fd = 3; fd < 3 + plan.preserve_fds; ++fd)
        (void)::fcntl(static_cast<int>(fd), F_SETFD, 0);
    if (::syscall(SYS_close_range, passed, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        child_fail(sync_fd, ChildStep::CloseFds);
}

// The created state: block until `start` writes a byte into exec.fifo. A FIFO reader polled
// before any writer ever opened it does not see POLLHUP, so poll() sleeps until start comes.
void wait_for_start(int fifo_fd, int sync_fd) noexcept
{
    char byte = 0;
    for (;;) {
        pollfd p{fifo_fd, POLLIN, 0};
        if (::poll(&p, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            child_fail(sync_fd, ChildStep::WaitStart);
        }
        const ssize_t n = ::read(fifo_fd, &byte, 1);
        if (n == 1)
            break;
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        errno = n == 0 ? EPIPE : errno; // a writer came and went without starting us
        child_fail(sync_fd, ChildStep::WaitStart);
    }
    ::close(fifo_fd);
}

void load_filter(const ProcessPlan& plan, int sync_fd) noexcept
{
    if (!plan.seccomp || !plan.load_seccomp)
        return;
    const int r = plan.load_seccomp(*plan.seccomp);
    if (r < 0)
        child_fail(sync_fd, ChildStep::Seccomp);
    if (r > 0 && plan.forward_listener) { // the parent hands it to linux.seccomp.listenerPath
        send_message(sync_fd, SyncType::Seccomp, 0, 0, 0);
        if (send_fd(sync_fd, r) < 0)
            child_fail(sync_fd, ChildStep::Seccomp);
        expect(sync_fd, SyncType::SeccompDone);
    }
    if (r > 0)
        ::close(r);
}

// The program must exist and be executable before we report ready: otherwise create succeeds,
// start returns 0 and the container is silently `stopped` (runc looks the program up before
// signalling ready too). Only what can be told as root with stat(): a regular file with an
// execute bit; a relative candidate, or a check that fails otherwise, is left to execve.
void check_executable(const ProcessPlan& plan, int sync_fd) noexcept
{
    int saved = ENOENT;
    for (const char* const* c = plan.exec_candidates; *c; ++c) {
        if (**c != '/')
            return;
        struct stat st {};
        if (::stat(*c, &st) < 0) {
            if (errno != ENOENT && errno != ENOTDIR && errno != EACCES)
                return;
            saved = errno == EACCES ? EACCES : saved;
            continue;
        }
        if (S_ISREG(st.st_mode) && (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
            return;
        saved = EACCES; // execve's answer for a directory or a file without an execute bit
    }
    errno = saved;
    child_fail(sync_fd, ChildStep::Exec);
}

[[noreturn]] void exec_process(const ProcessPlan& plan, int sync_fd) noexcept
{
    int saved = ENOENT;
    for (const char* const* c = plan.exec_candidates; *c; ++c) {
        ::execve(*c, plan.argv, plan.envp);
        if (errno == EACCES)
            saved = EACCES; // execvp's rule: remember, keep looking, report EACCES at the end
        else if (errno != ENOENT && errno != ENOTDIR) {
            saved = errno;
            break;
        }
    }
    errno = saved;
    child_fail(sync_fd, ChildStep::Exec);
}

} // namespace

[[noreturn]] void process_main(const ProcessPlan& plan, int sync, int fifo_fd) noexcept
{
    reset_signals();
    for (int target = 0; target < 3; ++target)
        if (plan.stdio[target] >= 0 && ::dup2(plan.stdio[target], target) < 0)
            child_fail(sync, ChildStep::Stdio);
    if (plan.terminal && setup_console(plan) < 0)
        child_fail(sync, ChildStep::Console);
    // Without a terminal too, a session and process group of its own (as runc): in the caller's
    // group, `kill 0` in the container would stop or kill its monitor (conmon, a shim).
    if (!plan.terminal && ::setsid() < 0)
        child_fail(sync, ChildStep::Setsid);
    // Before setrlimit: a low RLIMIT_NOFILE would refuse the temporary copies.
    if (arrange_process_fds(plan, &sync, &fifo_fd) < 0)
        child_fail(sync, ChildStep::MapFds);
    if (plan.umask >= 0)
        ::umask(static_cast<mode_t>(plan.umask));
    for (std::size_t i = 0; i < plan.rlimit_count; ++i)
        if (::setrlimit(static_cast<__rlimit_resource>(plan.rlimits[i].resource),
                        &plan.rlimits[i].limit) < 0)
            child_fail(sync, ChildStep::Rlimit, static_cast<int>(i));
    if (plan.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail(sync, ChildStep::NoNewPrivs);
    // Everything that needs a syscall a user's profile may not allow (close_range, stat) comes
    // before the filter: profiles written for runc allow a fixed set.
    close_fds(plan, sync);
    check_executable(plan, sync);
    // Without no_new_privs, installing a filter needs CAP_SYS_ADMIN: load it while we still
    // have it (the filter must then allow what follows: setresuid, capset, execve...). With
    // no_new_privs it comes last, so it only has to allow execve.
    if (!plan.no_new_privs)
        load_filter(plan, sync);
    set_credentials(plan, sync);
    // A new euid resets dumpable to fs.suid_dumpable (which may be 1): stay out of reach of the
    // container's processes until execve (exec's helper starts non-dumpable; see exec.cpp).
    (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    // A listener must reach the parent before Ready: the filter then comes before the wait for
    // start (where runc always loads it).
    const bool early = plan.no_new_privs && plan.forward_listener;
    if (early)
        load_filter(plan, sync);
    if (fifo_fd >= 0) {
        send_message(sync, SyncType::Ready, 0, 0, 0);
        wait_for_start(fifo_fd, sync);
        run_hooks(sync, plan.start_hooks, plan.start_hook_count, ChildStep::StartHook);
    }
    if (plan.no_new_privs && !early)
        load_filter(plan, sync);
    exec_process(plan, sync);
}

} // namespace berth::runtime
