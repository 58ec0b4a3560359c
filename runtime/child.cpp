// runtime/child.cpp — from fork() to execve(), read top to bottom.
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
// once it runs container code. Before exec the container process is non-dumpable (the stage
// and the init each set PR_SET_DUMPABLE 0 as their first act; the caller's own flag is never
// touched) so /proc/<pid>/exe and /proc/<pid>/mem of the processes still holding the runtime
// image cannot be opened by a container process, and exec into a container that is only
// "created" (its init still runs our image) is refused.
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

namespace berth::runtime {
namespace {

// The state JSON for createContainer hooks (status "creating") and startContainer hooks
// ("created"): sent by the parent once the pid is known. Static buffers: the child may not
// allocate.
char g_state_json[64 * 1024], g_start_json[64 * 1024];
std::size_t g_state_json_len = 0, g_start_json_len = 0;

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

// ---- The stage: join namespaces by path, clone the init. ----

pid_t clone_init(unsigned long flags) noexcept
{
    clone_args args{};
    args.flags = flags | CLONE_PARENT; // exit_signal must be 0 with CLONE_PARENT
    return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
}

// Born in the container's v2 cgroup (no migration by pid: see Cgroup::JoinFiles). The kernel
// may refuse (a joined cgroup namespace that does not show the cgroup, an old kernel): then it
// is a plain clone and *joined stays false; the parent moves the pid.
pid_t clone_init_into(unsigned long flags, int cgroup_fd, bool* joined) noexcept
{
    *joined = false;
    if (cgroup_fd >= 0) {
        clone_args args{};
        args.flags = flags | CLONE_PARENT | CLONE_INTO_CGROUP;
        args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
        const auto pid = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
        if (pid >= 0) {
            *joined = true;
            return pid;
        }
        if (errno == ENOMEM || errno == EAGAIN || errno == EINTR)
            return -1;
    }
    return clone_init(flags);
}

// The init moves itself into each v1 hierarchy: one thread moving itself ("0" in tasks) does
// not wait for the RCU grace period a move by pid does. The fds are the parent's, opened as root.
int join_cgroup(const CgroupJoinPlan& plan) noexcept
{
    for (std::size_t i = 0; i < plan.tasks_count; ++i) {
        if (::write(plan.tasks_fds[i], "0", 1) != 1)
            return -1;
        ::close(plan.tasks_fds[i]);
    }
    if (plan.v2_fd >= 0)
        ::close(plan.v2_fd);
    return 0;
}

// ---- A new network namespace starts with lo down: bring it up, as runc does. ----

// RTM_NEWLINK with IFF_UP on ifindex 1 (lo is always the first link of a namespace), acked.
int loopback_up() noexcept
{
    const int nl = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (nl < 0)
        return -1;
    struct {
        nlmsghdr header;
        ifinfomsg info;
    } request{};
    request.header.nlmsg_len = sizeof request;
    request.header.nlmsg_type = RTM_NEWLINK;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    request.header.nlmsg_seq = 1;
    request.info.ifi_family = AF_UNSPEC;
    request.info.ifi_index = 1;
    request.info.ifi_flags = IFF_UP;
    request.info.ifi_change = IFF_UP;
    int result = -1;
    if (::send(nl, &request, sizeof request, 0) == static_cast<ssize_t>(sizeof request)) {
        alignas(nlmsghdr) char reply[512];
        const ssize_t n = ::recv(nl, reply, sizeof reply, 0);
        const auto* answer = reinterpret_cast<const nlmsghdr*>(reply);
        if (n >= static_cast<ssize_t>(NLMSG_LENGTH(sizeof(nlmsgerr))) &&
            answer->nlmsg_type == NLMSG_ERROR) {
            const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(answer));
            errno = -error->error;
            result = error->error == 0 ? 0 : -1;
        } else if (n >= 0) {
            errno = EPROTO;
        }
    }
    const int saved = errno;
    ::close(nl);
    errno = saved;
    return result;
}

// ---- The console: a pty made inside the container's devpts, master sent to the caller. ----

int send_fd(int socket, int fd) noexcept
{
    char name[] = "berth-console";
    iovec iov{name, sizeof name - 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return ::sendmsg(socket, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
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

// The stage's first act. Non-dumpable: a process of our own (fork), so this is our flag, not the
// caller's (with a CLONE_VM stage it would be the caller's: then only the init may set it).
// Then every fd not on the keep-list is closed, before anything else runs.
void enter_stage(int sync_fd, unsigned preserve_fds, const int* keep, std::size_t count) noexcept
{
    (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (close_fds_except(3 + preserve_fds, keep, count) < 0)
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

[[noreturn]] void child_fail(int sync_fd, ChildStep step, int index) noexcept
{
    const int error = errno;
    send_message(sync_fd, SyncType::Failure, static_cast<int>(step), error, index);
    ::_exit(127);
}

[[noreturn]] void stage_main(const ChildPlan& plan) noexcept
{
    enter_stage(plan.sync_fd, plan.process.preserve_fds, plan.keep_fds, plan.keep_fd_count);
    for (std::size_t i = 0; i < plan.join_count; ++i)
        if (::setns(plan.joins[i].fd, plan.joins[i].type) < 0)
            child_fail(plan.sync_fd, ChildStep::JoinNamespace, static_cast<int>(i));
    bool in_v2 = false;
    const pid_t pid = clone_init_into(plan.clone_flags, plan.cgroup.v2_fd, &in_v2);
    if (pid < 0)
        child_fail(plan.sync_fd, ChildStep::Clone);
    if (pid == 0)
        child_main(plan);
    send_message(plan.sync_fd, SyncType::Pid, pid, in_v2 ? 1 : 0, 0);
    ::_exit(0);
}

[[noreturn]] void exec_stage_main(const ExecPlan& plan) noexcept
{
    enter_stage(plan.sync_fd, plan.process.preserve_fds, plan.keep_fds, plan.keep_fd_count);
    if (plan.ns_flags && ::setns(plan.pidfd, plan.ns_flags) < 0)
        child_fail(plan.sync_fd, ChildStep::JoinNamespace);
    ::close(plan.pidfd);
    bool in_v2 = false; // a child, so that the pid namespace applies to it
    const pid_t pid = clone_init_into(0, plan.cgroup.v2_fd, &in_v2);
    if (pid < 0)
        child_fail(plan.sync_fd, ChildStep::Clone);
    if (pid == 0) {
        (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); // already, unless the stage shared our mm
        expect(plan.sync_fd, SyncType::Go); // the parent moved us into the v2 cgroup if needed
        if (join_cgroup(plan.cgroup) < 0)
            child_fail(plan.sync_fd, ChildStep::JoinCgroup);
        process_main(plan.process, plan.sync_fd, -1);
    }
    send_message(plan.sync_fd, SyncType::Pid, pid, in_v2 ? 1 : 0, 0);
    ::_exit(0);
}

[[noreturn]] void child_main(const ChildPlan& plan) noexcept
{
    const int sync = plan.sync_fd;
    (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); // already, unless the stage shared our mm
    // 1. The parent writes our id maps, moves us into the cgroup, sets oom_score_adj.
    expect(sync, SyncType::Go);
    receive_state_json(sync, g_state_json, sizeof g_state_json, &g_state_json_len);
    receive_state_json(sync, g_start_json, sizeof g_start_json, &g_start_json_len);
    if (join_cgroup(plan.cgroup) < 0)
        child_fail(sync, ChildStep::JoinCgroup);
    if (plan.new_user &&
        (::syscall(SYS_setresgid, 0, 0, 0) < 0 || ::syscall(SYS_setresuid, 0, 0, 0) < 0))
        child_fail(sync, ChildStep::UserIds);
    if (plan.unshare_cgroup && ::unshare(CLONE_NEWCGROUP) < 0)
        child_fail(sync, ChildStep::UnshareCgroup);
    if (plan.new_net && loopback_up() < 0)
        child_fail(sync, ChildStep::Loopback);
    // 2. Mounts under the rootfs, still seeing the host's filesystem for bind sources.
    ChildStep step = ChildStep::None;
    int index = 0;
    if (plan.has_mount && setup_rootfs(plan, &step, &index) < 0)
        child_fail(sync, step, index);
    if (plan.hostname && ::sethostname(plan.hostname, std::strlen(plan.hostname)) < 0)
        child_fail(sync, ChildStep::Hostname);
    if (plan.domainname && ::setdomainname(plan.domainname, std::strlen(plan.domainname)) < 0)
        child_fail(sync, ChildStep::Domainname);
    // 3. prestart/createRuntime hooks run in the parent; createContainer hooks here, in the
    // container's namespaces but before pivot_root (the hook path is the host's).
    if (plan.parent_hooks) {
        send_message(sync, SyncType::Hooks, 0, 0, 0);
        expect(sync, SyncType::HooksDone);
    }
    run_hooks(sync, plan.create_hooks, plan.create_hook_count, ChildStep::CreateHook);
    // 4. Into the new root; then masked/readonly paths, sysctls, readonly root.
    if (finish_rootfs(plan, &step, &index) < 0)
        child_fail(sync, step, index);
    // The host's session keyring must not be shared with the container (runc does the same).
    if (plan.new_keyring && ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr) < 0 &&
        errno != ENOSYS)
        child_fail(sync, ChildStep::Keyring);
    process_main(plan.process, sync, plan.fifo_fd);
}

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
