// runtime/log_sink.hpp — internal: where the supervisor's log pump writes a container's output.
// Two real variants, as Docker's log drivers: json-file (runtime/json_log.hpp) and journald
// (runtime/journal_log.hpp). A sink is written by the pump's thread only.
#pragma once
#include <string_view>
#include "base/result.hpp"

namespace berth::runtime {

class LogSink {
public:
    LogSink() = default;
    LogSink(const LogSink&) = delete;
    LogSink& operator=(const LogSink&) = delete;
    virtual ~LogSink() = default;
    // One entry from stream ("stdout" or "stderr"): a whole line with its "\n", or a piece of
    // one without. more: the line goes on in the next piece (it was split at max_log_line);
    // false for a piece that EOF ended.
    virtual Result<void> write(std::string_view stream, std::string_view text, bool more) = 0;
};

} // namespace berth::runtime
