// runtime/cli/signals.hpp — signal names as runc's kill takes them: "9", "KILL", "SIGKILL",
// "kill", and the real-time range "RTMIN+3" / "SIGRTMAX-1". "0" sends no signal and only checks
// that the container is running, as with runc.
#pragma once
#include <signal.h>
#include <optional>
#include <string_view>
#include "base/fd.hpp"

namespace berth::cli {

std::optional<int> parse_signal(std::string_view text);

// For a foreground run or exec: while alive, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2 and
// SIGWINCH are blocked in this (single-threaded) program and collected by a signalfd, which the
// runtime reads to pass them on to the container (CreateOptions/ExecOptions::signal_fd). Made
// before the container exists, so that none is lost (or kills us) while it starts. The process
// started inside clears the mask it inherits.
class ForwardedSignals {
public:
    ForwardedSignals();
    ~ForwardedSignals();
    ForwardedSignals(const ForwardedSignals&) = delete;
    ForwardedSignals& operator=(const ForwardedSignals&) = delete;
    int fd() const { return fd_.get(); }

private:
    sigset_t saved_{};
    Fd fd_;
};

} // namespace berth::cli
