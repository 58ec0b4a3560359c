// runtime/cli/log_output.hpp — where berth-runtime reports, the way runc does: base/log lines
// (logrus text or JSON) to stderr or to the --log file; with a log file, a fatal error is also
// printed plainly on stderr.
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

// Points base/log at the --log file (kept open until exit), in the chosen format and level.
Result<void> setup_logging(const LogSettings& settings);

// Logs message as an error (runc's fatal()) and returns exit code 1.
int fail(std::string_view message);
int fail(const Error& error);

} // namespace berth::cli
