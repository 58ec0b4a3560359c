#include "runtime/cli/log_output.hpp"
#include <fcntl.h>
#include <unistd.h>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include "base/files.hpp"

namespace berth::cli {
namespace {

LogSettings g_settings;
int g_fd = STDERR_FILENO; // the --log file stays open until exit

// logrus' default timestamp: RFC 3339 to the second, UTC.
std::string now_rfc3339()
{
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char buffer[32];
    const auto n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return std::string(buffer, n);
}

void emit(std::string_view level, std::string_view message)
{
    std::string line;
    if (g_settings.json) {
        const nlohmann::json object = {{"level", level}, {"msg", message}, {"time", now_rfc3339()}};
        line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else {
        line = cat("time=", logfmt_value(now_rfc3339()), " level=", level,
                   " msg=", logfmt_value(message), "\n");
    }
    (void)write_all(g_fd, line);
}

} // namespace

Result<void> setup_logging(const LogSettings& settings)
{
    g_settings = settings;
    if (settings.path.empty() || settings.path == "/dev/stderr")
        return {};
    const int fd = ::open(settings.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return Error::from_errno("open log file ", quoted(settings.path));
    g_fd = fd;
    return {};
}

void log_debug(std::string_view message)
{
    if (g_settings.debug)
        emit("debug", message);
}

void log_warning(std::string_view message)
{
    emit("warning", message);
}

void log_error(std::string_view message)
{
    emit("error", message);
    if (g_fd != STDERR_FILENO) // as runc's fatal(): the caller still sees why on stderr
        (void)write_all(STDERR_FILENO, cat(message, "\n"));
}

int fail(std::string_view message)
{
    log_error(message);
    return 1;
}

int fail(const Error& error)
{
    return fail(error.message());
}

std::string logfmt_value(std::string_view value)
{
    const auto bare = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '/' || c == '@' || c == '^' || c == '+';
    };
    bool needs_quotes = false;
    for (char c : value)
        needs_quotes = needs_quotes || !bare(c);
    if (!needs_quotes)
        return std::string(value);
    std::string out = "\"";
    for (unsigned char c : value) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char hex[8];
                std::snprintf(hex, sizeof hex, "\\x%02x", c);
                out += hex;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

} // namespace berth::cli
