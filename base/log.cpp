#include "base/log.hpp"
#include <unistd.h>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include "base/files.hpp"
#include "base/strings.hpp"

namespace berth::log {
namespace {

std::atomic<Level> g_level{Level::Info}; // a SIGHUP reload changes it while threads log
Sink g_sink = nullptr;
Format g_format = Format::Text;
int g_fd = STDERR_FILENO;

const char* level_name(Level level)
{
    switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warning";
    case Level::Error: return "error";
    }
    return "info";
}

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

void emit(Level level, std::string_view message, std::initializer_list<Field> fields)
{
    if (level < g_level.load(std::memory_order_relaxed))
        return;
    if (g_sink != nullptr) {
        g_sink(level, message, fields);
        return;
    }
    std::string line;
    if (g_format == Format::Json) {
        nlohmann::json object = {
            {"level", level_name(level)}, {"msg", message}, {"time", now_rfc3339()}};
        for (const auto& [key, value] : fields)
            object[std::string(key)] = value;
        line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else {
        line = cat("time=", logfmt_value(now_rfc3339()), " level=", level_name(level),
                   " msg=", logfmt_value(message));
        for (const auto& [key, value] : fields)
            line += cat(" ", key, "=", logfmt_value(value));
        line += "\n";
    }
    (void)write_all(g_fd, line);
}

} // namespace

void set_level(Level level)
{
    g_level.store(level, std::memory_order_relaxed);
}
Level level()
{
    return g_level.load(std::memory_order_relaxed);
}
void set_sink(Sink sink)
{
    g_sink = sink;
}
void set_format(Format format)
{
    g_format = format;
}
void set_fd(int fd)
{
    g_fd = fd;
}
int fd()
{
    return g_fd;
}

void debug(std::string_view message, std::initializer_list<Field> fields)
{
    emit(Level::Debug, message, fields);
}
void info(std::string_view message, std::initializer_list<Field> fields)
{
    emit(Level::Info, message, fields);
}
void warn(std::string_view message, std::initializer_list<Field> fields)
{
    emit(Level::Warn, message, fields);
}
void error(std::string_view message, std::initializer_list<Field> fields)
{
    emit(Level::Error, message, fields);
}
void error(const Error& error, std::string_view message, std::initializer_list<Field> fields)
{
    emit(Level::Error, cat(message, ": ", error.message()), fields);
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

} // namespace berth::log
