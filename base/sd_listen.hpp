// base/sd_listen.hpp — sockets a service manager passed on (sd_listen_fds(3)), read directly: no
// libsystemd. systemd's socket activation starts the service with the listening sockets as fds
// 3, 4, ... and says how many in $LISTEN_FDS, for the process $LISTEN_PID.
#pragma once
#include <optional>
#include <vector>
#include "base/fd.hpp"
#include "base/result.hpp"

namespace berth::notify {

// The fds passed to this process (empty when $LISTEN_PID is unset or names another process: a
// child inherited the variables), each made close-on-exec, as sd_listen_fds(1) does. Unsets
// LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES so that no child takes them for its own: call it
// before any thread starts. EINVAL for a malformed count; EBADF when a named fd is not open.
Result<std::vector<Fd>> listen_fds();

} // namespace berth::notify
