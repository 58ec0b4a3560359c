// runtime/spawn.hpp — internal: the start create and exec share. A SOCK_SEQPACKET socketpair,
// the stage's fd keep-list, the fork, and the stage's first report (the pid of the process it
// cloned, or where it failed); the stage is reaped and the process it cloned (the caller's own
// child, CLONE_PARENT) adopted by pidfd. One place, so the fd and dumpable rules hold for both.
#pragma once
#include <sched.h>
#include <functional>
#include <vector>
#include "base/fd.hpp"
#include "base/result.hpp"
#include "runtime/child_plan.hpp"
#include "runtime/process.hpp"

namespace berth::runtime {

// Whether stages run in the caller's address space (clone CLONE_VM|CLONE_VFORK; not in
// sanitizer builds), unless StageNeeds::own_memory. Then a stage must not touch what belongs to
// the address space (the dumpable flag): the processes it clones do that as their first act.
bool stage_shares_caller_memory() noexcept;

// Where the plan keeps the fields spawn_stage fills in.
struct StageFds {
    int& sync_fd;
    const int*& keep_fds;
    std::size_t& keep_fd_count;
};

// Starts a stage running entry(plan) (stage_main or exec_stage_main, below). keep: the
// fds the stage needs besides stdio and the preserved ones (the child's end of sync is added);
// keep_storage holds the sorted list the plan points at while the child runs. sync gets our
// end. describe turns a Failure report into an Error. born_in_cgroup (when given) says whether
// the stage cloned the process straight into its v2 cgroup (clone3 CLONE_INTO_CGROUP): if not,
// the caller moves it there by pid. The stage runs in the caller's address space (clone
// CLONE_VM|CLONE_VFORK) unless needs.own_memory or a sanitizer build.
struct StageNeeds {
    bool own_memory = false;
};
Result<Child> spawn_stage(StageFds fields, std::vector<int> keep, std::vector<int>& keep_storage,
                          Fd& sync, void (*entry)(const void* plan) noexcept, const void* plan,
                          const std::function<Error(const SyncMessage&)>& describe,
                          bool* born_in_cgroup = nullptr, StageNeeds needs = {});

// A stage forks instead of sharing the caller's memory when:
// - it joins a time namespace (setns(CLONE_NEWTIME) needs a task whose memory no other shares);
// - the process it clones goes into another user namespace (new or joined). That process copies
//   the dumpable flag with the address space, and a caps-less uid 0 in our user namespace holds
//   every capability over it: only non-dumpable keeps it from opening /proc/<pid>/mem before the
//   process's own first prctl. A forked stage makes its own copy non-dumpable first
//   (enter_stage), so the process is born non-dumpable, and the caller's flag is never touched.
inline StageNeeds stage_needs(const ChildPlan& plan) noexcept
{
    StageNeeds needs;
    needs.own_memory = (plan.clone_flags & CLONE_NEWUSER) != 0;
    for (std::size_t i = 0; i < plan.join_count; ++i)
        needs.own_memory = needs.own_memory || plan.joins[i].type == CLONE_NEWTIME ||
                           plan.joins[i].type == CLONE_NEWUSER;
    return needs;
}

// The container's init (create): the stage joins namespaces by path and clones the init.
inline Result<Child> spawn_stage(ChildPlan& plan, std::vector<int> keep,
                                 std::vector<int>& keep_storage, Fd& sync,
                                 const std::function<Error(const SyncMessage&)>& describe,
                                 bool* born_in_cgroup = nullptr)
{
    return spawn_stage(
        StageFds{plan.sync_fd, plan.keep_fds, plan.keep_fd_count}, std::move(keep), keep_storage,
        sync, [](const void* p) noexcept { stage_main(*static_cast<const ChildPlan*>(p)); }, &plan,
        describe, born_in_cgroup, stage_needs(plan));
}

// A process exec'd into a running container: the stage joins through the init's pidfd.
inline Result<Child> spawn_stage(ExecPlan& plan, std::vector<int> keep,
                                 std::vector<int>& keep_storage, Fd& sync,
                                 const std::function<Error(const SyncMessage&)>& describe,
                                 bool* born_in_cgroup = nullptr)
{
    return spawn_stage(
        StageFds{plan.sync_fd, plan.keep_fds, plan.keep_fd_count}, std::move(keep), keep_storage,
        sync, [](const void* p) noexcept { exec_stage_main(*static_cast<const ExecPlan*>(p)); },
        &plan, describe, born_in_cgroup, StageNeeds{(plan.ns_flags & CLONE_NEWUSER) != 0});
}

} // namespace berth::runtime
