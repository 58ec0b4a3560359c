// base/fd_passing.hpp — one message with descriptors attached (SCM_RIGHTS) on a unix socket,
// both ways. The sendmsg every sender shares (the child's console master and seccomp listener:
// async-signal-safe, raw sendmsg, no allocation; the listener forwarded to
// linux.seccomp.listenerPath; the supervisor's messages) and the recvmsg every receiver shares
// (the supervisor's messages, the seccomp listener from the child, --console-socket, tests).
#pragma once
#include <sys/types.h>
#include <cstddef>
#include <span>
#include <vector>
#include "base/fd.hpp"
#include "base/result.hpp"

namespace berth {

inline constexpr std::size_t max_passed_fds = 4;

// Sends len bytes (len > 0: a message without data carries no fds) with count fds attached
// (0 .. max_passed_fds), MSG_NOSIGNAL, retried on EINTR. The bytes sent, or -1 with errno
// (EINVAL for too many fds). Async-signal-safe.
ssize_t send_with_fds(int socket, const void* data, std::size_t len, const int* fds,
                      std::size_t count) noexcept;

// Receives one message into data (recvmsg with MSG_CMSG_CLOEXEC and flags, e.g. MSG_DONTWAIT;
// retried on EINTR). Every fd that came with it is appended to fds, owned, whatever else
// happens, so none leaks. The bytes received (0: end of stream, or an empty datagram), or an
// error: the errno of recvmsg, or EMSGSIZE when the data or the fds did not fit (the message is
// gone: its fds are appended and closed with the vector).
Result<std::size_t> receive_with_fds(int socket, std::span<char> data, std::vector<Fd>& fds,
                                     int flags = 0);

} // namespace berth
