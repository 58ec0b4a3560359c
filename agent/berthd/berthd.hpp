// agent/berthd/berthd.hpp — what berthd's main.cpp shares with its other file.
#pragma once
#include "agent/api/api.hpp"
#include <csignal>
#include <functional>
#include <string>
#include <string_view>
#include <vector>
#include "agent/config/config.hpp"
#include "agent/daemon/daemon.hpp"
#include "base/log.hpp"
#include "base/result.hpp"

namespace berth::berthd {

inline constexpr const char* credentials_file = "api-credentials";

// The credentials the API verifies SigV4 against: the configured pair; without one, a pair
// generated once into <state_dir>/api-credentials (mode 0600, KEY=VALUE lines) and read from
// there afterwards, so a standalone node is never open to unsigned requests and root on the
// host can read what to sign with (`. /var/lib/berth/api-credentials`).
Result<api::Credentials> api_credentials(const config::Config& config);

// lifecycle.cpp: signals, reload, drain and the watchdog.
struct ReloadSource { // what berthd's configuration was loaded from
    std::string path;
    config::Environment env; // the environment and flags at start: a reload reads the file only
    bool must_exist = false;
};
// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and so in every thread it starts).
sigset_t block_signals();
// The signal thread: SIGHUP reloads (RELOADING=1 ... READY=1); SIGTERM/SIGINT end it, after
// STOPPING=1 and either node.stop() or, when the drain switch is on, close_servers() and
// node.drain().
void serve_signals(const sigset_t& signals, const ReloadSource& source, bool drain_on_stop,
                   daemon::Daemon& node, const std::function<void()>& close_servers);
// WATCHDOG=1 (when systemd asks for it) and STATUS= from the daemon's heartbeat.
void start_watchdog(daemon::Daemon& node);
// sd_notify(3) without libsystemd (base/sd_notify.hpp): a no-op when not under a service
// manager; a failure is logged as a warning, never fatal.
void notify_manager(std::string_view state);

// journal.cpp: under systemd, berthd's log lines go to the journal with structured fields.
// True when stderr is the journal stream systemd made (JOURNAL_STREAM matches it).
bool stderr_is_journal();
// From now on log lines are journal entries (log::set_sink); call before threads start.
void log_to_journal();
// One entry's "NAME=value" items: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, and the fields (task ->
// TASK_ARN and TASK_ID, container -> CONTAINER_NAME, others BERTH_<NAME>).
std::vector<std::string> journal_fields(log::Level level, std::string_view message,
                                        std::initializer_list<log::Field> fields);

// memory.cpp: fixed malloc thresholds (call first thing, before threads), and the heap's free
// pages handed back to the kernel, with berthd's RSS before and after logged (on_idle).
void configure_malloc();
void return_freed_memory();
// Runs berthd again (execv of its own binary, the same pid) with glibc's per-thread malloc
// caches off, unless GLIBC_TUNABLES already says so; returns only if that exec failed. First
// thing in main, before any thread or fd.
void run_without_thread_caches(char** argv);

} // namespace berth::berthd
