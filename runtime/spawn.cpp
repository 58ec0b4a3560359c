// runtime/spawn.cpp — the start create and exec share (spawn.hpp). Runs as root on the host.
#include "runtime/spawn.hpp"
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include "runtime/fds.hpp"

namespace berth::runtime {
namespace {

struct StageStart {
    void (*entry)(const void* plan) noexcept;
    const void* plan;
};

int run_stage(void* start)
{
    const auto* s = static_cast<const StageStart*>(start);
    s->entry(s->plan); // never returns
    return 0;
}

// Big enough for the init too: it is cloned by the stage and runs on its copy of this stack.
constexpr std::size_t stage_stack_bytes = std::size_t{2} << 20;
constexpr std::size_t guard_bytes = 4096;

// The stage shares our memory (clone CLONE_VM|CLONE_VFORK on its own stack, as posix_spawn
// does): no copy of the caller's page tables, which in a large caller (the agent) is most of
// the cost of a fork (docs/BENCHMARKS.md, bench/runtime_clone.cpp: 64 ms at 256 MB RSS here
// against 0.03 ms). We are suspended until it exits. All signals stay blocked in it (our
// handlers must not run on our memory from another task; its own handler table is a copy), and
// the process it clones gets an address space of its own and its own first acts (non-dumpable,
// signals reset); when that window matters, the stage forks instead (spawn.hpp, stage_needs).
// Sanitizer runtimes do not expect a task on a foreign stack, so their builds fork.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool stage_shares_memory = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool stage_shares_memory = false;
#else
constexpr bool stage_shares_memory = true;
#endif
#else
constexpr bool stage_shares_memory = true;
#endif

// own_memory: the stage must fork (spawn.hpp, stage_needs: a time namespace joined, or another
// user namespace for the process it clones).
pid_t start_stage(StageStart& start, bool own_memory)
{
    if (!stage_shares_memory || own_memory) {
        const pid_t pid = ::fork();
        if (pid == 0)
            run_stage(&start);
        return pid;
    }
    constexpr int map_flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK;
    constexpr std::size_t map_bytes = stage_stack_bytes + guard_bytes;
    // cppcheck-suppress invalidFunctionArg ; fd -1 is what MAP_ANONYMOUS asks for
    void* stack = ::mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, map_flags, -1, 0);
    if (stack == MAP_FAILED)
        return -1;
    (void)::mprotect(stack, guard_bytes, PROT_NONE); // below the stack: a fault, not corruption
    sigset_t all, saved;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &saved); // this thread's only, restored at once
    const pid_t pid =
        ::clone(run_stage, static_cast<char*>(stack) + guard_bytes + stage_stack_bytes,
                CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
    const int saved_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    ::munmap(stack, map_bytes); // the stage is gone; the init has a copy
    errno = saved_errno;
    return pid;
}

} // namespace

bool stage_shares_caller_memory() noexcept
{
    return stage_shares_memory;
}

Result<Child> spawn_stage(StageFds fields, std::vector<int> keep, std::vector<int>& keep_storage,
                          Fd& sync, void (*entry)(const void* plan) noexcept, const void* plan,
                          const std::function<Error(const SyncMessage&)>& describe,
                          bool* born_in_cgroup, StageNeeds needs)
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
    // The stage's first act (child.cpp's enter_stage): non-dumpable (when it shares our memory,
    // the flag is ours: start_stage), then every fd but the keep-list closed, our end of
    // sync and the caller's locks included. Our end must go: the child sees EOF when we die.
    StageStart start{entry, plan};
    const pid_t stage = start_stage(start, needs.own_memory);
    if (stage < 0)
        return Error::from_errno("clone the stage");
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
