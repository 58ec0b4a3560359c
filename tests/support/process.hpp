// tests/support/process.hpp — starting a command (a runtime binary) with its stdout and stderr
// captured in memfds, waiting with a timeout, and killing it if it overruns. memfds instead of
// pipes: a detached container inherits the runtime's stdio and would keep a pipe open forever,
// while a memfd can be read at any time without waiting for EOF.
#pragma once
#include <sys/types.h>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>
#include "base/fd.hpp"

namespace berth::test {

using namespace std::chrono_literals;

struct Output {
    int status = -1;        // exit code, or 128+signal like a shell; -1 if it could not start
    bool timed_out = false; // killed by us after the timeout
    std::string out, err;
};

class Command { // a started process we own; the destructor SIGKILLs and reaps it if still running
public:
    static Command start(const std::vector<std::string>& argv);
    Command(Command&& other) noexcept;
    Command& operator=(Command&&) = delete;
    Command(const Command&) = delete;
    ~Command();

    pid_t pid() const { return pid_; }
    std::string out() const; // what was written so far
    std::string err() const;
    // Polls stdout until it contains needle; false after the timeout.
    bool wait_for_output(std::string_view needle, std::chrono::milliseconds timeout) const;
    // Waits for the exit; SIGKILLs after the timeout (timed_out is then set).
    Output wait(std::chrono::milliseconds timeout);

private:
    Command(pid_t pid, Fd pidfd, Fd out, Fd err);
    pid_t pid_ = -1;
    Fd pidfd_, out_, err_;
};

Output run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 30s);

// "a 'b c'" for messages.
std::string join_argv(const std::vector<std::string>& argv);

} // namespace berth::test
