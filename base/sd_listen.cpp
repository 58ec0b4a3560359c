// base/sd_listen.cpp — see sd_listen.hpp.
#include "base/sd_listen.hpp"
#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include "base/strings.hpp"

namespace berth::notify {
namespace {

// A decimal number without sign or junk; nullopt otherwise.
std::optional<long> number(const char* text)
{
    if (text == nullptr || *text == '\0')
        return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0)
        return std::nullopt;
    return v;
}

constexpr int first_fd = 3; // SD_LISTEN_FDS_START

} // namespace

Result<std::vector<Fd>> listen_fds()
{
    // NOLINTBEGIN(concurrency-mt-unsafe): documented as called before any thread starts
    const char* pid_text = std::getenv("LISTEN_PID");
    const char* count_text = std::getenv("LISTEN_FDS");
    const auto pid = number(pid_text);
    const auto count = number(count_text);
    const std::string count_copy = count_text ? count_text : "";
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    // NOLINTEND(concurrency-mt-unsafe)
    std::vector<Fd> out;
    if (!pid || *pid != ::getpid())
        return out;
    if (!count || *count > 1024)
        return Error::invalid("LISTEN_FDS ", quoted(count_copy), " is not a count of fds");
    const int end = first_fd + static_cast<int>(*count);
    for (int fd = first_fd; fd < end; ++fd) // all open, or none is taken (nor closed)
        if (::fcntl(fd, F_GETFD) < 0)
            return Error::from_errno("LISTEN_FDS ", *count, " names fd ", fd);
    for (int fd = first_fd; fd < end; ++fd) {
        (void)::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC);
        out.emplace_back(fd);
    }
    return out;
}

} // namespace berth::notify
