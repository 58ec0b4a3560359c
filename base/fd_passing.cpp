// base/fd_passing.cpp — see fd_passing.hpp. send_with_fds is async-signal-safe: a forked child
// calls it.
#include "base/fd_passing.hpp"
#include <sys/socket.h>
#include <cerrno>
#include <cstring>

namespace berth {

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

Result<std::size_t> receive_with_fds(int socket, std::span<char> data, std::vector<Fd>& fds,
                                     int flags)
{
    iovec iov{data.data(), data.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_passed_fds)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = 0;
    while ((n = ::recvmsg(socket, &msg, flags | MSG_CMSG_CLOEXEC)) < 0)
        if (errno != EINTR)
            return Error::from_errno("recvmsg");
    // Taken before anything is checked: the kernel installed them in this process already.
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd = -1;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                fds.emplace_back(fd);
            }
        }
    if ((msg.msg_flags & MSG_TRUNC) != 0)
        return Error::with_code(EMSGSIZE, "recvmsg: the message is longer than ", data.size(),
                                " bytes");
    if ((msg.msg_flags & MSG_CTRUNC) != 0)
        return Error::with_code(EMSGSIZE, "recvmsg: more than ", max_passed_fds,
                                " descriptors came with the message");
    return static_cast<std::size_t>(n);
}

} // namespace berth
