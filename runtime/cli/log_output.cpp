#include "runtime/cli/log_output.hpp"
#include <fcntl.h>
#include <unistd.h>
#include "base/files.hpp"
#include "base/log.hpp"
#include "base/strings.hpp"

namespace berth::cli {

Result<void> setup_logging(const LogSettings& settings)
{
    log::set_format(settings.json ? log::Format::Json : log::Format::Text);
    log::set_level(settings.debug ? log::Level::Debug : log::Level::Info);
    if (settings.path.empty() || settings.path == "/dev/stderr")
        return {};
    const int fd = ::open(settings.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return Error::from_errno("open log file ", quoted(settings.path));
    log::set_fd(fd);
    return {};
}

int fail(std::string_view message)
{
    log::error(message);
    if (log::fd() != STDERR_FILENO) // as runc's fatal(): the caller still sees why on stderr
        (void)write_all(STDERR_FILENO, cat(message, "\n"));
    return 1;
}

int fail(const Error& error)
{
    return fail(error.message());
}

} // namespace berth::cli
