// runtime/json_log.hpp — internal: a container's stdout/stderr in Docker's json-file format,
// {"log":"line\n","stream":"stdout","time":"RFC3339Nano"} one object a line, rotated by size
// (<path>, <path>.1, ... <path>.<max_files-1>, as dockerd names them). Written by the supervisor.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include "base/fd.hpp"
#include "base/result.hpp"
#include "runtime/log_sink.hpp"

namespace berth::runtime {

// Docker splits lines longer than this into several entries (the last one ends with "\n").
inline constexpr std::size_t max_log_line = std::size_t{16} * 1024;

class JsonLog final : public LogSink {
public:
    JsonLog(std::string path, std::uint64_t max_bytes, unsigned max_files);
    // One entry; text is a whole line with its "\n" or a piece of one without (json-file marks
    // neither: a reader joins pieces up to the one ending in "\n", as Docker's does).
    Result<void> write(std::string_view stream, std::string_view text, bool more) override;
    Result<void> write(std::string_view stream, std::string_view text)
    {
        return write(stream, text, false);
    }

private:
    Result<void> open_file();
    Result<void> rotate();
    std::string path_;
    std::uint64_t max_bytes_;
    unsigned max_files_;
    Fd file_;
    std::uint64_t size_ = 0;
};

// Go's time.RFC3339Nano of now, UTC ("2026-11-26T03:34:18.123456789Z", zeros trimmed).
std::string rfc3339_nano_now();

// Splits what a pipe gave into entries: whole lines go out, a partial line waits in pending
// unless it reached max_log_line (then it goes out as a piece). flush: EOF, all goes out.
Result<void> drain_lines(LogSink& log, std::string_view stream, std::string& pending,
                         std::string_view data, bool flush);

} // namespace berth::runtime
