// tests/support/console.hpp — the receiving end of --console-socket: an AF_UNIX stream
// listener in a fresh temp directory that accepts one connection and takes the pty master fd
// the runtime sends with SCM_RIGHTS.
#pragma once
#include <chrono>
#include <string>
#include "base/fd.hpp"
#include "tests/support/bundle.hpp"

namespace berth::test {

class ConsoleSocket {
public:
    ConsoleSocket();
    const std::string& path() const { return path_; }
    // Accepts one connection and receives one fd; an invalid Fd on timeout or error.
    Fd receive(std::chrono::milliseconds timeout);

private:
    TempDir dir_;
    std::string path_;
    Fd listener_;
};

// Reads what is available from fd until it contains needle or the timeout passes.
std::string read_until(int fd, const std::string& needle, std::chrono::milliseconds timeout);

} // namespace berth::test
