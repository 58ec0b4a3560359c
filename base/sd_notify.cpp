// base/sd_notify.cpp — see sd_notify.hpp.
#include "base/sd_notify.hpp"
#include <unistd.h>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include "base/strings.hpp"
#include "base/unix_datagram.hpp"

namespace berth::notify {

Result<void> send_to(std::string_view socket, std::string_view state)
{
    if (!socket.empty() && socket.front() != '/' && socket.front() != '@')
        return Error::with_code(EAFNOSUPPORT,
                                "NOTIFY_SOCKET is neither a path nor @abstract: ", quoted(socket));
    auto address = unix_address(socket);
    if (!address)
        return std::move(address).error().wrap("NOTIFY_SOCKET");
    auto fd = unix_datagram_socket();
    if (!fd)
        return std::move(fd).error();
    if (auto sent = send_datagram(fd->get(), *address, state); !sent)
        return std::move(sent).error().wrap(cat("notify ", socket));
    return {};
}

Result<bool> send(std::string_view state)
{
    // NOLINTNEXTLINE(concurrency-mt-unsafe): berth never changes its environment
    const char* socket = std::getenv("NOTIFY_SOCKET");
    if (socket == nullptr)
        return false;
    if (auto sent = send_to(socket, state); !sent)
        return std::move(sent).error();
    return true;
}

std::optional<std::chrono::microseconds> watchdog_interval()
{
    // NOLINTNEXTLINE(concurrency-mt-unsafe): berth never changes its environment
    const char* usec = std::getenv("WATCHDOG_USEC");
    if (usec == nullptr)
        return std::nullopt;
    // NOLINTNEXTLINE(concurrency-mt-unsafe): as above
    if (const char* pid = std::getenv("WATCHDOG_PID"); pid != nullptr) {
        const auto owner = parse_int<pid_t>(pid);
        if (!owner || *owner != ::getpid())
            return std::nullopt;
    }
    const auto value = parse_int<std::uint64_t>(usec);
    if (!value || *value == 0)
        return std::nullopt;
    return std::chrono::microseconds(*value);
}

} // namespace berth::notify
