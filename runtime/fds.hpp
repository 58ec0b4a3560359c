// runtime/fds.hpp — internal: which descriptors a container's processes hold.
//
// The caller (the agent) is a threaded process full of fds it did not mark close-on-exec for
// us: other containers' state locks, pipes, sockets. A fork() copies all of them, and a
// container waiting in `created` would hold them until it execs. So the stage (the forked
// child) closes every fd except an explicit keep-list as its first act, and the process closes
// what it no longer needs and moves the fds passed to it to their numbers before it execs:
// stdio, then fds 3.. (preserve_fds first, then the mapped fds in order), nothing else.
#pragma once
#include <cstddef>
#include <vector>
#include "base/result.hpp"

namespace berth::runtime {

struct ProcessPlan;

// Parent side: the sorted, de-duplicated list of the non-negative fds in `fds`, for the plans.
std::vector<int> keep_list(std::vector<int> fds);

// Checks the caller's fd mapping (fds[i] becomes 3 + preserve_fds + i): each an open fd, the
// total within RLIMIT_NOFILE, and every preserved fd (3 .. 2 + preserve_fds) open. EINVAL naming
// the fd or the limit.
Result<void> check_fd_mapping(unsigned preserve_fds, const std::vector<int>& fds);

// Child side, async-signal-safe (raw system calls only).
// Closes every fd >= keep_below except those in keep (sorted ascending, as keep_list makes).
// 0, or -1 with errno.
int close_fds_except(unsigned keep_below, const int* keep, std::size_t count) noexcept;
// In the process just before it drops privileges: closes everything but stdio, the preserved
// fds, plan.fd_map's sources, *sync and *fifo; moves fd_map[i] to 3 + preserve_fds + i (not
// close-on-exec) and *sync and *fifo above them (close-on-exec; both updated). 0, or -1.
int arrange_process_fds(const ProcessPlan& plan, int* sync, int* fifo) noexcept;

} // namespace berth::runtime
