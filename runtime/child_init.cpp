// runtime/child_init.cpp — the container's init (see child.cpp), cloned by the stage: joins its
// cgroup, takes its ids, brings lo up, makes the rootfs (rootfs.cpp), runs createContainer hooks,
// pivots, then becomes the process (child_process.cpp). Async-signal-safe: raw system calls only.
#include <fcntl.h>
#include <linux/keyctl.h>
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
#include "runtime/netns.hpp"

namespace berth::runtime {

[[noreturn]] void child_main(const ChildPlan& plan) noexcept
{
    const int sync = plan.sync_fd;
    (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); // already, unless the stage shared our mm
    // 1. The parent writes our id maps, moves us into the cgroup, sets oom_score_adj.
    expect(sync, SyncType::Go);
    receive_hook_states(sync);
    if (join_cgroup(plan.cgroup) < 0)
        child_fail(sync, ChildStep::JoinCgroup);
    if (plan.new_user &&
        (::syscall(SYS_setresgid, 0, 0, 0) < 0 || ::syscall(SYS_setresuid, 0, 0, 0) < 0))
        child_fail(sync, ChildStep::UserIds);
    if (plan.unshare_cgroup && ::unshare(CLONE_NEWCGROUP) < 0)
        child_fail(sync, ChildStep::UnshareCgroup);
    // A new network namespace starts with lo down: bring it up, as runc does (a namespace made
    // ahead by create, joined by the stage, has it up already: new_net is false then).
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

} // namespace berth::runtime
