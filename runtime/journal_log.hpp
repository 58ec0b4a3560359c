// runtime/journal_log.hpp — internal: the journald log driver of berth-supervisor, as Docker's
// (moby daemon/logger/journald): each line of a container's stdout/stderr is one journal entry,
// MESSAGE without its "\n", PRIORITY 6 (stdout) or 3 (stderr), and the container's fixed fields
// (CONTAINER_ID, CONTAINER_NAME, TASK_ARN, ...: the agent chooses them, see
// agent/daemon/journal_fields.cpp). A line longer than max_log_line goes out in pieces, each but
// the last with CONTAINER_PARTIAL_MESSAGE=true, all with CONTAINER_PARTIAL_ID, _ORDINAL and
// _LAST, as Docker 20.10+ writes them.
//
// Written by hand in systemd's "Native Journal Protocol" (base/journal_native.hpp's serialize,
// shared with berthd's own lines): one AF_UNIX datagram per entry to
// /run/systemd/journal/socket, "NAME=value\n" per field, or for a value holding a newline
// "NAME\n" + its length (64-bit little endian) + the value + "\n"; an entry too big for one
// datagram goes in a sealed memfd passed with SCM_RIGHTS. Sent here on a non-blocking socket of
// the supervisor's own (base's JournalWriter blocks while journald's queue is full, which a
// container's log must never do). No libsystemd: the supervisor's memory is counted per
// container.
//
// Never blocking, never killing the container: Docker's default (blocking) mode stalls the
// container once journald's socket is full, and drops the line with an error when journald is
// absent. berth does what Docker's mode=non-blocking does instead: what journald cannot take now
// (queue full: EAGAIN; socket missing or refused: journald restarting or not running) waits in one
// bounded buffer per supervisor (journal_backlog_bytes, shared by all containers, allocated only
// while there is a backlog) and is retried with back-off; beyond the bound entries are dropped
// and counted per container, and once journald takes entries again the container gets one entry
// saying how many lines it lost (BERTH_DROPPED_LINES). Entries journald can never take (a field
// it refuses) are dropped the same way.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include "base/fd.hpp"
#include "base/result.hpp"
#include "base/unix_datagram.hpp"
#include "runtime/log_sink.hpp"

namespace berth::runtime {

inline constexpr std::string_view journal_socket_path = "/run/systemd/journal/socket";
// What waits for journald at most, all containers together.
inline constexpr std::size_t journal_backlog_bytes = std::size_t{1} << 20;

// EINVAL naming the first "NAME=value" that journald would refuse (no '=', a bad name: journald
// takes 1..64 of [A-Z0-9_], not starting with '_', its own trusted fields, or a digit).
Result<void> valid_journal_fields(std::span<const std::string> fields);

// The supervisor's one socket to journald and its bounded backlog. Pump thread only.
class JournalSender {
public:
    explicit JournalSender(std::string socket_path = std::string(journal_socket_path),
                           std::size_t backlog_bytes = journal_backlog_bytes);
    // Sends or queues one encoded entry whose first fixed_bytes are its container's fixed fields
    // (0: not a container's line); false when it was dropped (backlog full, or refused at once).
    // An entry queued and refused later counts as a drop of its container. Never blocks.
    bool send(std::string entry, std::size_t fixed_bytes = 0);
    // One line of the container whose fixed fields (encoded) these are was dropped: reported in
    // one entry per container once journald takes entries again.
    void count_drop(const std::string& fixed);
    // Retries the backlog (the pump calls it when retry_in_ms() has passed).
    void flush();
    // -1: nothing waits; else when to call flush() next (2 ms while journald's queue is full,
    // backing off 10 ms .. 2 s while it is away).
    int retry_in_ms() const { return backlog_.empty() ? -1 : retry_ms_; }
    std::size_t backlog_size() const { return backlog_bytes_; }

private:
    enum class Sent { Yes, Later, Never };
    Sent try_send(const std::string& entry);
    Sent send_memfd(const std::string& entry);
    void report_drops();
    std::string path_;
    std::size_t max_backlog_;
    Fd socket_;
    UnixAddress address_{};
    struct Queued {
        std::string entry;
        std::size_t fixed_bytes = 0;
    };
    std::deque<Queued> backlog_;
    std::size_t backlog_bytes_ = 0;
    int retry_ms_ = 10;
    int last_errno_ = 0;                         // of the last failed send
    std::map<std::string, std::uint64_t> drops_; // by the container's encoded fixed fields
};

// One container's journald sink: its fixed fields ("NAME=value", checked) on every entry.
class JournalLog final : public LogSink {
public:
    // fields must pass valid_journal_fields (the supervisor checks them first); any that does
    // not is left out.
    JournalLog(JournalSender& sender, const std::vector<std::string>& fields);
    Result<void> write(std::string_view stream, std::string_view text, bool more) override;
    // Lines dropped when written (backlog full, or refused at once); a queued line journald
    // refuses later is counted by the sender's drop notice (BERTH_DROPPED_LINES) only.
    std::uint64_t dropped() const { return dropped_; }

    // The encoded entry for one piece (white-box tests): fixed fields, then MESSAGE, PRIORITY
    // and the partial-line fields.
    std::string encode(std::string_view stream, std::string_view text, bool more);

private:
    struct Partial { // a line being sent in pieces, per stream
        std::string id;
        unsigned ordinal = 0;
    };
    JournalSender& sender_;
    std::string fixed_;  // the fixed fields, encoded once
    Partial partial_[2]; // stdout, stderr
    std::uint64_t dropped_ = 0;
};

} // namespace berth::runtime
