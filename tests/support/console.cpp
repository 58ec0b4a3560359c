// tests/support/console.cpp — see console.hpp.
#include "tests/support/console.hpp"
#include <poll.h>
#include <unistd.h>
#include <stdexcept>

namespace berth::test {
namespace {

bool wait_readable(int fd, std::chrono::milliseconds timeout)
{
    pollfd pfd{fd, POLLIN, 0};
    return ::poll(&pfd, 1, static_cast<int>(timeout.count())) > 0;
}

berth::ConsoleSocket made()
{
    auto socket = berth::ConsoleSocket::create();
    if (!socket)
        throw std::runtime_error(socket.error().message());
    return std::move(*socket);
}

} // namespace

ConsoleSocket::ConsoleSocket() : socket_(made())
{
}

Fd ConsoleSocket::receive(std::chrono::milliseconds timeout)
{
    auto fd = socket_.receive(timeout);
    return fd ? std::move(*fd) : Fd();
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
