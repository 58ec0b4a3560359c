// runtime/cli/log_output.hpp — how berth-runtime reports, the way runc (logrus) does: text lines
// `time="..." level=error msg="..."` or JSON lines {"level":..,"msg":..,"time":..} to stderr,
// or to the --log file; with a log file, a fatal error is also printed plainly on stderr.
#pragma once
#include <string>
#include <string_view>
#include "base/result.hpp"

namespace berth::cli {

struct LogSettings {
    std::string path;  // "" = stderr
    bool json = false; // --log-format json
    bool debug = false;
};

Result<void> setup_logging(const LogSettings& settings);

void log_debug(std::string_view message);
void log_warning(std::string_view message);
void log_error(std::string_view message);

// Logs message as an error (runc's fatal()) and returns exit code 1.
int fail(std::string_view message);
int fail(const Error& error);

// logrus text value quoting: bare when made only of [A-Za-z0-9-._/@^+], else Go's %q.
std::string logfmt_value(std::string_view value);

} // namespace berth::cli
