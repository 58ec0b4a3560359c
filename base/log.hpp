// base/log.hpp — the one program log, for the binaries (berth-runtime) and the agent. Libraries
// never log above debug: they return errors, and the program logs once where it decides what to
// do. Messages are constant phrases; variable data goes in fields. Lines are written the way runc
// (logrus) writes them, which is what engines driving berth-runtime parse:
//   text: time="2024-05-01T10:00:00Z" level=error msg="..." KEY=value
//   json: {"level":"error","msg":"...","time":"2024-05-01T10:00:00Z","KEY":"value"}
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

void set_level(Level level); // lines below it are dropped (default Info); any thread may call it
Level level();
void set_format(Format format);
// Where lines go: stderr by default; an fd the caller owns (kept open by the caller).
void set_fd(int fd);
int fd();
// Another destination for each line that passes the level: berthd's journald writer under
// systemd (structured fields). nullptr: lines go to fd() again. Set before threads start.
using Sink = void (*)(Level level, std::string_view message, std::initializer_list<Field> fields);
void set_sink(Sink sink);

void debug(std::string_view message, std::initializer_list<Field> fields = {});
void info(std::string_view message, std::initializer_list<Field> fields = {});
void warn(std::string_view message, std::initializer_list<Field> fields = {});
void error(std::string_view message, std::initializer_list<Field> fields = {});
// "message: <the error chain>"
void error(const Error& error, std::string_view message, std::initializer_list<Field> fields = {});

// logrus text value quoting: bare when made only of [A-Za-z0-9-._/@^+], else Go's %q.
std::string logfmt_value(std::string_view value);

} // namespace berth::log
