// runtime/child_init.cpp — the container's init (see child.cpp), cloned by the stage: joins its
// cgroup, takes its ids, brings lo up, makes the rootfs (rootfs.cpp), runs createContainer hooks,
// pivots, then becomes the process (child_process.cpp). Async-signal-safe: raw system calls only.
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

// A new network namespace starts with lo down: bring it up, as runc does.
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

} // namespace

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
