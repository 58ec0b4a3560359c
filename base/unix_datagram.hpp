// base/unix_datagram.hpp — one datagram to an AF_UNIX address named by a string: a path, or
// "@name" for the abstract namespace (systemd's convention for $NOTIFY_SOCKET). Shared by the
// journal native protocol and sd_notify writers (base/journal_native.hpp, base/sd_notify.hpp);
// the address helpers serve every AF_UNIX socket berth connects or binds by path.
#pragma once
#include <sys/socket.h>
#include <sys/un.h>
#include <string_view>
#include "base/fd.hpp"
#include "base/result.hpp"

namespace berth {

struct UnixAddress {
    sockaddr_un addr{};
    socklen_t length = 0;
};

// EINVAL (bad input): empty, or longer than sun_path holds.
Result<UnixAddress> unix_address(std::string_view name);
// A filesystem path only, whatever its first byte: for the stream and seqpacket sockets of
// berth's own protocols (supervisor, console, seccomp listener). EINVAL as above.
Result<UnixAddress> unix_path_address(std::string_view path);

// An unconnected SOCK_DGRAM|SOCK_CLOEXEC socket.
Result<Fd> unix_datagram_socket();

// Sends payload as one datagram to `to`, with pass_fd as SCM_RIGHTS when >= 0. Retries EINTR.
// Errors are sendmsg's (EMSGSIZE: larger than the socket's send buffer allows).
Result<void> send_datagram(int socket, const UnixAddress& to, std::string_view payload,
                           int pass_fd = -1);

} // namespace berth
