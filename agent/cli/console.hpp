// agent/cli/console.hpp — berth exec -t: the console socket the runtime sends the pty master to
// (base/console_socket.hpp), and this terminal in raw mode for as long as the session lasts
// (restored by the destructor, also when the exec fails).
#pragma once
#include <termios.h>
#include <chrono>
#include <string>
#include "base/console_socket.hpp"

namespace berth::cli {

using berth::ConsoleSocket; // base/console_socket.hpp: the tests use the same one

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
