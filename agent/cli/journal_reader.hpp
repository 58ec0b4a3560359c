// agent/cli/journal_reader.hpp — `berth logs` for a container with logDriver journald: its
// entries read back from the local journal (sd_journal_*, libsystemd) by one match (the marker's
// "CONTAINER_ID_FULL=<runtime id>", agent/daemon/journal_fields.hpp), as the LogEntry shape of
// the json-file reader: MESSAGE plus "\n" unless CONTAINER_PARTIAL_MESSAGE=true (a piece of a
// long line), PRIORITY 6 -> stdout, anything else (3: stderr, 4: berth's dropped-lines notice)
// -> stderr, the journal's receive time. --json prints each as a json-file line would be.
#pragma once
#include <memory>
#include <string>
#include <vector>
#include "agent/cli/logs.hpp"

struct sd_journal;

namespace berth::cli {

class JournalReader {
public:
    // Opens the local journal (system and runtime files). EINVAL for a match that is not
    // NAME=value; errors of sd_journal_open otherwise.
    static Result<JournalReader> open(const std::string& match, const LogQuery& query);
    std::vector<LogEntry>& existing() { return existing_; }
    // Waits up to timeout_ms for new entries and returns them (empty on timeout).
    Result<std::vector<LogEntry>> poll(int timeout_ms);

private:
    struct Close {
        void operator()(sd_journal* j) const;
    };
    JournalReader() = default;
    Result<void> read_new(std::vector<LogEntry>& out);
    std::unique_ptr<sd_journal, Close> journal_;
    std::int64_t since_ns_ = 0;
    std::vector<LogEntry> existing_;
};

} // namespace berth::cli
