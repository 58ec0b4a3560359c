#include "base/log.hpp"
#include <unistd.h>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include "base/files.hpp"

namespace berth::log {
namespace {

Level g_level = Level::Info;
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

std::string timestamp()
{
    const auto now = std::chrono::system_clock::now();
    const auto seconds = std::chrono::system_clock::to_time_t(now);
    const auto nanos =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() %
        1000000000;
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char buffer[64];
    const auto n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
    char fraction[16];
    std::snprintf(fraction, sizeof fraction, ".%09lldZ", static_cast<long long>(nanos));
    return std::string(buffer, n) + fraction;
}

void emit(Level level, std::string_view message, std::initializer_list<Field> fields,
          const Error* error)
{
    if (level < g_level)
        return;
    std::string line;
    if (g_format == Format::Json) {
        nlohmann::json object;
        object["level"] = level_name(level);
        object["msg"] = error ? cat(message, ": ", error->message()) : std::string(message);
        object["time"] = timestamp();
        for (const auto& [key, value] : fields)
            object[std::string(key)] = value;
        line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else {
        line = std::string(1, static_cast<char>(level_name(level)[0] - 'a' + 'A')) + " " +
               std::string(message);
        if (error)
            line += cat(": ", error->message());
        for (const auto& [key, value] : fields)
            line += cat(" ", key, "=", value);
        line += "\n";
    }
    (void)write_all(g_fd, line);
}

} // namespace

void set_level(Level level)
{
    g_level = level;
}
void set_format(Format format)
{
    g_format = format;
}
void set_fd(int fd)
{
    g_fd = fd;
}

void debug(std::string_view message, std::initializer_list<Field> fields)
{
    emit(Level::Debug, message, fields, nullptr);
}
void info(std::string_view message, std::initializer_list<Field> fields)
{
    emit(Level::Info, message, fields, nullptr);
}
void warn(std::string_view message, std::initializer_list<Field> fields)
{
    emit(Level::Warn, message, fields, nullptr);
}
void error(const Error& error, std::string_view message, std::initializer_list<Field> fields)
{
    emit(Level::Error, message, fields, &error);
}

} // namespace berth::log
