// runtime/fd_passing.hpp — internal: one message with descriptors attached (SCM_RIGHTS) on a
// unix socket. The one sendmsg every sender shares: the child's console master and seccomp
// listener (async-signal-safe: raw sendmsg, no allocation), the seccomp listener forwarded to
// linux.seccomp.listenerPath and the supervisor's messages.
#pragma once
#include <sys/types.h>
#include <cstddef>

namespace berth::runtime {

inline constexpr std::size_t max_passed_fds = 4;

// Sends len bytes (len > 0: a message without data carries no fds) with count fds attached
// (0 .. max_passed_fds), MSG_NOSIGNAL, retried on EINTR. The bytes sent, or -1 with errno
// (EINVAL for too many fds). Async-signal-safe.
ssize_t send_with_fds(int socket, const void* data, std::size_t len, const int* fds,
                      std::size_t count) noexcept;

} // namespace berth::runtime
