// base/console_socket.cpp — see console_socket.hpp.
#include "base/console_socket.hpp"
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cstdlib>
#include <cstring>
#include "base/fd_passing.hpp"
#include "base/strings.hpp"

namespace berth {
namespace {

bool wait_readable(int fd, std::chrono::milliseconds timeout)
{
    pollfd pfd{fd, POLLIN, 0};
    return ::poll(&pfd, 1, static_cast<int>(timeout.count())) > 0;
}

Result<Fd> fd_from(const Fd& connection)
{
    char name[256];
    std::vector<Fd> fds;
    if (auto n = receive_with_fds(connection.get(), name, fds); !n)
        return std::move(n).error().wrap("receive the terminal");
    if (fds.empty())
        return Error::with_code(EPROTO, "the console socket got no terminal");
    return std::move(fds.front());
}

} // namespace

Result<ConsoleSocket> ConsoleSocket::create()
{
    ConsoleSocket console;
    std::string pattern = "/tmp/berth-console-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
        return Error::from_errno("make a directory for the console socket");
    console.dir_ = pattern; // mode 0700: only its owner reaches the socket
    console.path_ = pattern + "/console.sock";
    console.listener_ = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, console.path_.data(), console.path_.size());
    if (!console.listener_.valid() ||
        ::bind(console.listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) <
            0 ||
        ::listen(console.listener_.get(), 1) < 0)
        return Error::from_errno("console socket ", quoted(console.path_));
    return console;
}

ConsoleSocket::ConsoleSocket(ConsoleSocket&& other) noexcept
    : dir_(std::move(other.dir_)), path_(std::move(other.path_)),
      listener_(std::move(other.listener_))
{
    other.dir_.clear(); // the moved-from one removes nothing
    other.path_.clear();
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
    if (!wait_readable(listener_.get(), timeout))
        return Error::with_code(ETIMEDOUT, "no terminal came from the container process");
    const Fd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection.valid())
        return Error::from_errno("accept on the console socket");
    if (!wait_readable(connection.get(), timeout))
        return Error::with_code(ETIMEDOUT, "the console socket's peer sent no terminal");
    return fd_from(connection);
}

} // namespace berth
