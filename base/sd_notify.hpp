// base/sd_notify.hpp — the service manager's notification protocol (sd_notify(3)), written
// directly: no libsystemd. A state ("READY=1", "STATUS=...", several lines joined by '\n') is one
// datagram to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name": abstract).
// Thread-safe; reads the environment on each call and never changes it.
#pragma once
#include <chrono>
#include <optional>
#include <string_view>
#include "base/result.hpp"

namespace berth::notify {

// Sends state to $NOTIFY_SOCKET: false when it is unset (not started by a service manager),
// true once sent. EAFNOSUPPORT names an address kind berth does not speak (vsock:); EINVAL an
// empty or too long one; others are sendmsg's.
Result<bool> send(std::string_view state);

// The same to a socket named explicitly (tests, or a caller that saved $NOTIFY_SOCKET).
Result<void> send_to(std::string_view socket, std::string_view state);

// The watchdog interval the manager expects WATCHDOG=1 within ($WATCHDOG_USEC), when the
// watchdog is on and meant for this process ($WATCHDOG_PID unset or our pid); as
// sd_watchdog_enabled(3). nullopt otherwise, and for a malformed or zero value.
std::optional<std::chrono::microseconds> watchdog_interval();

} // namespace berth::notify
