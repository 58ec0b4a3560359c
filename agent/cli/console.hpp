// agent/cli/console.hpp — berth exec -t: the console socket the runtime sends the pty master to,
// and this terminal in raw mode for as long as the session lasts (restored by the destructor,
// also when the exec fails).
#pragma once
#include <termios.h>
#include <chrono>
#include <string>
#include "base/fd.hpp"
#include "base/result.hpp"

namespace berth::cli {

class ConsoleSocket { // a listening AF_UNIX socket in a private temporary directory
public:
    static Result<ConsoleSocket> create();
    ConsoleSocket(ConsoleSocket&&) noexcept = default;
    ConsoleSocket& operator=(ConsoleSocket&&) noexcept = delete;
    ConsoleSocket(const ConsoleSocket&) = delete;
    ConsoleSocket& operator=(const ConsoleSocket&) = delete;
    ~ConsoleSocket(); // removes the socket and its directory
    const std::string& path() const { return path_; }
    // The pty master the process sent (it connected while starting: the connection waits in
    // the backlog, so this is called after exec returned).
    Result<Fd> receive(std::chrono::milliseconds timeout);

private:
    ConsoleSocket() = default;
    std::string dir_, path_;
    Fd listener_;
};

class RawTerminal { // fd in raw mode while alive; nothing when fd is not a terminal
public:
    explicit RawTerminal(int fd);
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;
    ~RawTerminal();

private:
    int fd_;
    bool saved_ = false;
    termios original_{};
};

// Copies the window size of from (a terminal) to to (the pty master); nothing if from is not one.
void copy_window_size(int from, int to);

} // namespace berth::cli
