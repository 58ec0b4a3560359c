// runtime/log_pump.hpp — internal: berth-supervisor's log drain on a thread of its own, so a
// slow create (hooks, a big rootfs, a registry mount) never stalls the containers' stdout and
// stderr: pipes buffer only 64 KiB, after which a container blocks on write. The supervisor's
// loop hands each pipe over with add(); the pump owns it from then on and drops it at EOF.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include "base/fd.hpp"
#include "runtime/journal_log.hpp"
#include "runtime/log_sink.hpp"

namespace berth::runtime {

class LogPump {
public:
    LogPump() = default;
    LogPump(const LogPump&) = delete;
    LogPump& operator=(const LogPump&) = delete;
    ~LogPump(); // stops the thread; pipes still open are drained no further
    // Starts the thread (once).
    Result<void> start();
    // From now on the pump reads fd (the read end of a container's pipe) into log.
    Result<void> add(Fd fd, std::shared_ptr<LogSink> log, const char* stream);
    // The one journald socket of the supervisor, for its JournalLogs: used by the pump's thread
    // only (a JournalLog made elsewhere keeps the reference and writes from the pump).
    JournalSender& journal() { return journal_; }
    // Nothing in flight: no pipe left to drain (each is dropped at EOF, once every process
    // holding its write end is gone) and no journald backlog waiting. Any thread.
    bool idle();

private:
    struct Pipe {
        Fd fd;
        std::shared_ptr<LogSink> log;
        const char* stream = "stdout";
        std::string pending;
    };
    void loop();
    void drain(Pipe& pipe);
    Fd epoll_, stop_;  // stop_: an eventfd the destructor signals
    std::mutex mutex_; // guards pipes_ (the loop thread erases, add() inserts)
    std::map<int, std::unique_ptr<Pipe>> pipes_;
    JournalSender journal_;
    std::atomic<bool> journal_pending_{false}; // journal_ has a backlog (set by the pump thread)
    std::thread thread_;
};

} // namespace berth::runtime
