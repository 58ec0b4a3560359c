// agent/api/unix_socket.hpp — the CLI socket's file: a listening AF_UNIX socket at a path, mode
// 0600, guarded by <path>.lock (flock) for as long as the server runs. Internal.
#pragma once
#include <sys/types.h>
#include <string>
#include "base/fd.hpp"
#include "base/result.hpp"

namespace berth::api {

struct UnixListener {
    Fd socket; // listening, O_CLOEXEC
    Fd lock;   // holds flock(LOCK_EX) on <path>.lock: a second server sees EADDRINUSE
    std::string path;
    ino_t inode = 0; // of the socket file at path (fstat on the socket shows sockfs instead)
    dev_t device = 0;
};

// Binds under a temporary name, sets mode 0600, listens, then renames onto path, so the socket
// is never reachable with a wider mode. A socket file nobody serves (a crashed server's) is
// replaced; one a live server holds is refused (EADDRINUSE); a path that is something else than
// a socket is refused (EEXIST) and left alone. ENAMETOOLONG past sun_path's 107 bytes.
Result<UnixListener> open_unix_listener(const std::string& path);
// Removes the socket file if it still is the one this listener made (same inode).
void remove_unix_listener(const UnixListener& listener);

// The uid of the process at the other end of a connected AF_UNIX socket (SO_PEERCRED).
Result<uid_t> peer_uid(int fd);

} // namespace berth::api
