// base/log.hpp — the binaries' and agent's logging. Libraries never log above debug: they return
// errors, and the program logs once where it decides what to do. Messages are constant
// lowercase phrases; variable data goes in fields.
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include "base/result.hpp"

namespace berth::log {

enum class Level { Debug, Info, Warn, Error };
enum class Format { Text, Json }; // Json: one object per line, as runc's --log-format json

using Field = std::pair<std::string_view, std::string>;

void set_level(Level level);
void set_format(Format format);
// Where lines go: stderr by default; an fd the caller owns (kept open by the caller).
void set_fd(int fd);

void debug(std::string_view message, std::initializer_list<Field> fields = {});
void info(std::string_view message, std::initializer_list<Field> fields = {});
void warn(std::string_view message, std::initializer_list<Field> fields = {});
void error(const Error& error, std::string_view message, std::initializer_list<Field> fields = {});

} // namespace berth::log
