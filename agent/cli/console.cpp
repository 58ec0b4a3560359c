// agent/cli/console.cpp — console socket and raw terminal for berth exec -t (see console.hpp).
#include "agent/cli/console.hpp"
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cstdlib>
#include <cstring>
#include "base/strings.hpp"

namespace berth::cli {

Result<ConsoleSocket> ConsoleSocket::create()
{
    ConsoleSocket console;
    std::string pattern = "/tmp/berth-exec-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
        return Error::from_errno("make a directory for the console socket");
    console.dir_ = pattern; // mode 0700: only root reaches the socket
    console.path_ = pattern + "/console.sock";
    console.listener_ = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, console.path_.data(), console.path_.size());
    if (!console.listener_.valid() ||
        ::bind(console.listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) <
            0 ||
        ::listen(console.listener_.get(), 1) < 0)
        return Error::from_errno("console socket ", berth::quoted(console.path_));
    return console;
}

ConsoleSocket::~ConsoleSocket()
{
    if (!path_.empty())
        ::unlink(path_.c_str());
    if (!dir_.empty())
        ::rmdir(dir_.c_str());
}

Result<Fd> ConsoleSocket::receive(std::chrono::milliseconds timeout)
{
    pollfd pfd{listener_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0)
        return Error::with_code(ETIMEDOUT, "no terminal came from the container process");
    const Fd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection.valid())
        return Error::from_errno("accept on the console socket");
    char name[256];
    iovec io{name, sizeof name};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    if (::recvmsg(connection.get(), &message, MSG_CMSG_CLOEXEC) < 0)
        return Error::from_errno("receive the terminal");
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
            return Fd(fd);
        }
    return Error::with_code(EPROTO, "the console socket got no terminal");
}

RawTerminal::RawTerminal(int fd) : fd_(fd)
{
    if (::isatty(fd_) == 0 || ::tcgetattr(fd_, &original_) < 0)
        return;
    termios raw = original_;
    ::cfmakeraw(&raw);
    saved_ = ::tcsetattr(fd_, TCSANOW, &raw) == 0;
}

RawTerminal::~RawTerminal()
{
    if (saved_)
        (void)::tcsetattr(fd_, TCSANOW, &original_);
}

void copy_window_size(int from, int to)
{
    winsize size{};
    if (::ioctl(from, TIOCGWINSZ, &size) == 0)
        (void)::ioctl(to, TIOCSWINSZ, &size);
}

} // namespace berth::cli
