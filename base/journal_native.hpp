// base/journal_native.hpp — journald's native protocol (systemd's "Native Journal Protocol"
// document), written directly: no libsystemd. One entry is one datagram on journald's AF_UNIX
// socket, its fields serialized as "NAME=value\n", or, for a value holding a newline, as
// "NAME\n" + the value's length (64-bit little endian) + the value + "\n". An entry too large
// for one datagram goes in a sealed memfd passed with SCM_RIGHTS, as the document says.
// Used by berthd's own log lines (agent/berthd/journal.cpp) and open to the supervisor's
// journald log driver. Thread-safe: a JournalWriter only sends on its socket.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include "base/fd.hpp"
#include "base/result.hpp"
#include "base/unix_datagram.hpp"

namespace berth::journal {

constexpr std::string_view default_socket = "/run/systemd/journal/socket";

// The wire form of one entry. Each field is "NAME=value"; EINVAL (bad input) names a field with
// no '=' or a name journald would refuse (empty, over 64 bytes, not [A-Z0-9_], or starting with
// '_' or a digit: '_' names are journald's own trusted fields).
Result<std::string> serialize(std::span<const std::string_view> fields);

class JournalWriter { // move-only; owns its unconnected datagram socket
public:
    // A socket for entries to socket_path. Nothing is sent: a missing journald shows at send().
    static Result<JournalWriter> open(std::string_view socket_path = default_socket);

    // Sends one entry. Blocks while journald's queue is full (as libsystemd's sd_journal_sendv):
    // an entry is never dropped silently. Errors: EINVAL (a bad field, as serialize), ENOENT or
    // ECONNREFUSED (no journald), others from sendmsg/memfd_create.
    Result<void> send(std::span<const std::string_view> fields) const;

private:
    JournalWriter(Fd socket, UnixAddress address, std::string path)
        : socket_(std::move(socket)), address_(address), path_(std::move(path))
    {
    }
    Result<void> send_memfd(std::string_view entry) const;

    Fd socket_;
    UnixAddress address_;
    std::string path_; // for error messages
};

} // namespace berth::journal
