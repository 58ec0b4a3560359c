// runtime/fd_passing.cpp — see fd_passing.hpp. Async-signal-safe: a forked child calls it.
#include "runtime/fd_passing.hpp"
#include <sys/socket.h>
#include <cerrno>
#include <cstring>

namespace berth::runtime {

ssize_t send_with_fds(int socket, const void* data, std::size_t len, const int* fds,
                      std::size_t count) noexcept
{
    if (count > max_passed_fds) {
        errno = EINVAL;
        return -1;
    }
    iovec iov{const_cast<void*>(data), len}; // sendmsg does not write through it
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_passed_fds)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (count > 0) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * count);
        std::memcpy(CMSG_DATA(c), fds, sizeof(int) * count);
    }
    ssize_t sent;
    do
        sent = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    return sent;
}

} // namespace berth::runtime
