// runtime/child_internal.hpp — internal to the child-side files (child.cpp, child_stage.cpp,
// child_init.cpp, child_process.cpp): what they share. Everything here runs between fork and
// execve: async-signal-safe, raw system calls only, no allocation.
#pragma once
#include <cstddef>
#include "runtime/child_plan.hpp"

namespace berth::runtime {

// One message to the parent on the sync socket (MSG_NOSIGNAL).
void send_message(int sync_fd, SyncType type, int a, int b, int c) noexcept;
// Waits for one message of `type` from the parent; EOF (the parent died) ends the child.
void expect(int sync_fd, SyncType type) noexcept;
// The state JSON for createContainer and startContainer hooks, as the parent sends them.
void receive_hook_states(int sync_fd) noexcept;
// Runs the hooks in order; the first failure is reported as step (with its index).
void run_hooks(int sync_fd, const HookPlan* hooks, std::size_t count, ChildStep step) noexcept;
// Every signal back to its default action, none blocked.
void reset_signals() noexcept;
// The init or exec'd process moves itself into its v1 cgroups; closes the plan's fds.
int join_cgroup(const CgroupJoinPlan& plan) noexcept;

} // namespace berth::runtime
