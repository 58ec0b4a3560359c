#include "tests/support/console.hpp"
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cstring>
#include <stdexcept>

namespace berth::test {
namespace {

bool wait_readable(int fd, std::chrono::milliseconds timeout)
{
    pollfd pfd{fd, POLLIN, 0};
    return ::poll(&pfd, 1, static_cast<int>(timeout.count())) > 0;
}

} // namespace

ConsoleSocket::ConsoleSocket()
    : dir_("berth-console"), path_(dir_.path() + "/console.sock"),
      listener_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0))
{
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
    if (!listener_.valid() ||
        ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0 ||
        ::listen(listener_.get(), 1) < 0)
        throw std::runtime_error("console socket " + path_ + ": " + std::strerror(errno));
}

Fd ConsoleSocket::receive(std::chrono::milliseconds timeout)
{
    if (!wait_readable(listener_.get(), timeout))
        return Fd();
    Fd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection.valid() || !wait_readable(connection.get(), timeout))
        return Fd();
    char name[256];
    iovec io{name, sizeof name};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    if (::recvmsg(connection.get(), &message, MSG_CMSG_CLOEXEC) < 0)
        return Fd();
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
            return Fd(fd);
        }
    }
    return Fd();
}

std::string read_until(int fd, const std::string& needle, std::chrono::milliseconds timeout)
{
    std::string data;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (data.find(needle) == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !wait_readable(fd, left))
            break;
        char buffer[1024];
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0)
            break;
        data.append(buffer, static_cast<std::size_t>(n));
    }
    return data;
}

} // namespace berth::test
