// runtime/spawn.cpp — the start create and exec share (spawn.hpp). Runs as root on the host.
#include "runtime/spawn.hpp"
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include "runtime/fds.hpp"

namespace berth::runtime {

Result<Child> spawn_stage(StageFds fields, std::vector<int> keep, std::vector<int>& keep_storage,
                          Fd& sync, void (*entry)(const void* plan) noexcept, const void* plan,
                          const std::function<Error(const SyncMessage&)>& describe,
                          bool* born_in_cgroup)
{
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return Error::from_errno("socketpair");
    sync = Fd(sv[0]);
    Fd child_end(sv[1]);
    fields.sync_fd = child_end.get();
    keep.push_back(child_end.get());
    keep_storage = keep_list(std::move(keep));
    fields.keep_fds = keep_storage.data();
    fields.keep_fd_count = keep_storage.size();
    // The stage's first act (child.cpp's enter_stage): non-dumpable, then every fd but the
    // keep-list closed, our end of sync and the caller's locks included. Our end must go: the
    // child sees EOF when we die.
    const pid_t stage = ::fork();
    if (stage < 0)
        return Error::from_errno("fork");
    if (stage == 0)
        entry(plan); // never returns
    child_end.reset();
    auto first = receive_sync(sync.get());
    int stage_status = 0;
    while (::waitpid(stage, &stage_status, 0) < 0 && errno == EINTR) {
    }
    if (!first)
        return std::move(first).error();
    if (first->type == SyncType::Failure)
        return describe(*first);
    if (born_in_cgroup != nullptr)
        *born_in_cgroup = first->b != 0;
    return Child::adopt(first->a);
}

} // namespace berth::runtime
