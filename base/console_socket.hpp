// base/console_socket.hpp — the receiving end of an OCI --console-socket: an AF_UNIX stream
// listener in a private temporary directory (mode 0700) that accepts one connection and takes
// the pty master the runtime sends with SCM_RIGHTS. Used by `berth exec -t` and by the tests.
#pragma once
#include <chrono>
#include <string>
#include "base/fd.hpp"
#include "base/result.hpp"

namespace berth {

class ConsoleSocket {
public:
    static Result<ConsoleSocket> create(); // under /tmp
    ConsoleSocket(ConsoleSocket&& other) noexcept;
    ConsoleSocket& operator=(ConsoleSocket&&) noexcept = delete;
    ConsoleSocket(const ConsoleSocket&) = delete;
    ConsoleSocket& operator=(const ConsoleSocket&) = delete;
    ~ConsoleSocket(); // removes the socket and its directory
    const std::string& path() const { return path_; }
    // The pty master the process sent (it connected while starting: the connection waits in
    // the backlog, so this may be called after the runtime returned). ETIMEDOUT when nothing
    // came within timeout (for the connection, then again for the message).
    Result<Fd> receive(std::chrono::milliseconds timeout);

private:
    ConsoleSocket() = default;
    std::string dir_, path_;
    Fd listener_;
};

} // namespace berth
