// base/unix_datagram.cpp — see unix_datagram.hpp.
#include "base/unix_datagram.hpp"
#include <sys/uio.h>
#include <array>
#include <cerrno>
#include <cstring>

namespace berth {

namespace {

// Abstract: sun_path starts with NUL and the length counts exactly the name's bytes.
// Path: NUL-terminated inside sun_path.
Result<UnixAddress> address_of(std::string_view name, bool abstract)
{
    UnixAddress out;
    out.addr.sun_family = AF_UNIX;
    if (name.empty())
        return Error::invalid("unix socket address is empty");
    const std::size_t room = sizeof(out.addr.sun_path) - (abstract ? 0 : 1);
    if (name.size() > room)
        return Error::invalid("unix socket address too long (", name.size(), " bytes, at most ",
                              room, "): ", name);
    std::memcpy(out.addr.sun_path, name.data(), name.size());
    if (abstract)
        out.addr.sun_path[0] = '\0';
    out.length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (abstract ? 0 : 1));
    return out;
}

} // namespace

Result<UnixAddress> unix_address(std::string_view name)
{
    return address_of(name, !name.empty() && name.front() == '@');
}

Result<UnixAddress> unix_path_address(std::string_view path)
{
    return address_of(path, false);
}

Result<Fd> unix_datagram_socket()
{
    Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return Error::from_errno("socket(AF_UNIX, SOCK_DGRAM)");
    return fd;
}

Result<void> send_datagram(int socket, const UnixAddress& to, std::string_view payload, int pass_fd)
{
    iovec iov{const_cast<char*>(payload.data()), payload.size()}; // NOLINT: iovec is not const
    msghdr msg{};
    msg.msg_name = const_cast<sockaddr_un*>(&to.addr); // NOLINT: msghdr is not const
    msg.msg_namelen = to.length;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
    if (pass_fd >= 0) {
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
    }
    for (;;) {
        if (::sendmsg(socket, &msg, MSG_NOSIGNAL) >= 0)
            return {};
        if (errno != EINTR)
            return Error::from_errno("sendmsg to unix socket");
    }
}

} // namespace berth
