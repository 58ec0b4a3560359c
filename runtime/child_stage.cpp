// runtime/child_stage.cpp — the stage (see child.cpp): forked by the caller, it closes every fd
// but the keep-list, joins the namespaces given by path (create) or the init's (exec, through its
// pidfd), then clones the container's init or the exec'd process with CLONE_PARENT, born in the
// container's v2 cgroup when the kernel allows. Async-signal-safe: raw system calls only.
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
#include "runtime/spawn.hpp"

namespace berth::runtime {

namespace {

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

// The stage's first act. Non-dumpable when it has an address space of its own (a fork: the flag
// is the address space's); a stage sharing the caller's memory leaves the caller's flag alone,
// and the init and the exec'd process set theirs as their first act (spawn.hpp's stage_needs
// makes the stage fork when that window matters). Then every fd not on the keep-list is closed,
// before anything else runs.
void enter_stage(int sync_fd, unsigned preserve_fds, const int* keep, std::size_t count,
                 bool own_memory) noexcept
{
    if (own_memory || !stage_shares_caller_memory())
        (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (close_fds_except(3 + preserve_fds, keep, count) < 0)
        child_fail(sync_fd, ChildStep::CloseFds);
}

} // namespace

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

[[noreturn]] void stage_main(const ChildPlan& plan) noexcept
{
    enter_stage(plan.sync_fd, plan.process.preserve_fds, plan.keep_fds, plan.keep_fd_count,
                stage_needs(plan).own_memory);
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
    enter_stage(plan.sync_fd, plan.process.preserve_fds, plan.keep_fds, plan.keep_fd_count,
                (plan.ns_flags & CLONE_NEWUSER) != 0);
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

} // namespace berth::runtime
