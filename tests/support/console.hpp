// tests/support/console.hpp — the receiving end of --console-socket for the tests: base's
// ConsoleSocket (the one `berth exec -t` uses) made at construction, an invalid Fd on failure.
#pragma once
#include <chrono>
#include <string>
#include "base/console_socket.hpp"
#include "base/fd.hpp"

namespace berth::test {

class ConsoleSocket {
public:
    ConsoleSocket(); // throws when the socket cannot be made (the test fails)
    const std::string& path() const { return socket_.path(); }
    // Accepts one connection and receives one fd; an invalid Fd on timeout or error.
    Fd receive(std::chrono::milliseconds timeout);

private:
    berth::ConsoleSocket socket_;
};

// Reads what is available from fd until it contains needle or the timeout passes.
std::string read_until(int fd, const std::string& needle, std::chrono::milliseconds timeout);

} // namespace berth::test
