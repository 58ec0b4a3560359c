// runtime/supervisor_logs.hpp — internal: the log pipes of supervised containers, made so that
// they outlive the supervisor. The container's end of each pipe is the pipe reopened read-write
// (/proc/self/fd/N, O_RDWR): while the container holds it the pipe always has a reader, so a
// container whose supervisor died (SIGKILL) never gets EPIPE or SIGPIPE; its writes fill the
// pipe buffer (64 KiB) and then block until a restarted supervisor reopens the same pipe through
// /proc/<init>/fd/1 and 2 (checked by inode against <root>/<id>/log.json) and drains it again.
#pragma once
#include <sys/types.h>
#include <array>
#include <memory>
#include <optional>
#include <string>
#include "base/fd.hpp"
#include <vector>
#include "runtime/journal_log.hpp"
#include "runtime/json_log.hpp"
#include "runtime/runtime.hpp"

namespace berth::runtime {

// [0]: the supervisor's read end; [1]: the container's end (read-write on the same pipe).
Result<std::array<Fd, 2>> make_log_pipe();

struct LogConfig {
    bool journald = false;           // else json-file at path
    std::vector<std::string> fields; // journald: "NAME=value" on every entry
    std::string path;
    std::uint64_t max_bytes = 0;
    unsigned max_files = 0;
    ino_t stdout_inode = 0, stderr_inode = 0; // the pipes, to recognise them after a restart
};
// The sink the config names; journald's entries go through sender (the pump's).
std::shared_ptr<LogSink> make_log_sink(const LogConfig& config, JournalSender& sender);
// <root>/<id>/log.json, atomically.
Result<void> save_log_config(const Options& options, const std::string& id,
                             const LogConfig& config);

// The container's pipes reopened for reading from its live init, and its log. nullopt: the
// container has no log (no log.json), or its init no longer holds the pipes as fds 1 and 2.
struct Reattached {
    Fd out, err;
    std::shared_ptr<LogSink> log;
};
Result<std::optional<Reattached>> reattach_logs(const Options& options, const std::string& id,
                                                pid_t pid, JournalSender& sender);

} // namespace berth::runtime
