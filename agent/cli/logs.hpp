// agent/cli/logs.hpp — reading a container's json-file log as berth-supervisor writes it
// (runtime/json_log: {"log","stream","time"} a line; rotated as <path>.1, <path>.2, ...; .N is
// the oldest): the existing entries in the order written, filtered by time and count, then new
// ones as they come, across rotation (inotify on the log's directory).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "base/fd.hpp"
#include "base/result.hpp"

namespace berth::cli {

struct LogEntry {
    std::string log;    // the text, with its "\n" when the line was whole
    std::string stream; // "stdout" or "stderr"
    std::int64_t time_ns = 0;
    std::string raw; // the line as stored, without its "\n" (for --json)
};

// One stored line; nullopt when it is not an entry (a torn or foreign line is skipped).
std::optional<LogEntry> parse_log_line(std::string_view line);
// RFC 3339 with optional fraction and Z or +hh:mm offset, as nanoseconds since the epoch.
Result<std::int64_t> parse_rfc3339(std::string_view text);
// --since: a duration back from now ("90s", "10m", "1h30m", "250ms"), an RFC 3339 time, or
// Unix seconds ("1700000000"). EINVAL naming the text otherwise.
Result<std::int64_t> parse_since(std::string_view text, std::int64_t now_ns);
// The files of the log at path that exist, oldest first: <path>.N ... <path>.1, <path>.
std::vector<std::string> log_files(const std::string& path);

struct LogQuery {
    std::int64_t since_ns = 0;       // entries at or after; 0: all
    std::optional<std::size_t> tail; // the last N (after since)
    // Following only: a log not written yet (the writer creates it at the first output) is
    // followed from its creation instead of being ENOENT.
    bool may_not_exist_yet = false;
};

// Reads a log and, when asked, keeps following it. The existing entries are read after the
// watch is set, so nothing written in between is lost.
class LogReader {
public:
    // ENOENT when neither path nor a rotated file exists.
    static Result<LogReader> open(const std::string& path, const LogQuery& query, bool follow);
    // The entries that existed at open, filtered by the query.
    std::vector<LogEntry>& existing() { return existing_; }
    // Follow only: waits up to timeout_ms for the log to change and returns what was appended
    // since (empty on timeout), including what went to files rotated away meanwhile.
    Result<std::vector<LogEntry>> poll(int timeout_ms);

private:
    LogReader() = default;
    Result<void> read_current(std::vector<LogEntry>& out);
    Result<void> after_rotation(std::vector<LogEntry>& out);
    Result<void> open_current();
    std::string path_;
    Fd inotify_;
    Fd current_;          // the file named path_ when it was opened
    std::string pending_; // a line whose end is not written yet
    std::vector<LogEntry> existing_;
};

} // namespace berth::cli
