// agent/api/unix_socket.cpp — the CLI socket's file (see unix_socket.hpp). Runs as root on the
// host: the path is under berthd's runtime directory, and nothing here follows a symlink into
// somewhere else (bind and rename act on the name itself; chmod acts on our fresh socket).
#include "agent/api/unix_socket.hpp"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cstring>
#include "base/strings.hpp"

namespace berth::api {
namespace {

Result<sockaddr_un> address_of(const std::string& path)
{
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof address.sun_path)
        return Error::with_code(ENAMETOOLONG, "unix socket path ", quoted(path), ": empty or over ",
                                sizeof address.sun_path - 1, " bytes");
    std::memcpy(address.sun_path, path.data(), path.size());
    return address;
}

// True when something accepts connections at path (a live server).
bool someone_listens(const sockaddr_un& address)
{
    const Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return probe.valid() &&
           ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
}

// What may already be at path: nothing, or a socket nobody serves (removed by the rename).
Result<void> check_existing(const std::string& path, const sockaddr_un& address)
{
    struct stat st {};
    if (::lstat(path.c_str(), &st) < 0) {
        if (errno == ENOENT)
            return {};
        return Error::from_errno("stat ", quoted(path));
    }
    if (!S_ISSOCK(st.st_mode))
        return Error::with_code(EEXIST, quoted(path), " exists and is not a socket: not replaced");
    if (someone_listens(address))
        return Error::with_code(EADDRINUSE, "another server is listening on ", quoted(path));
    return {};
}

Result<Fd> take_lock(const std::string& path)
{
    const auto lock_path = path + ".lock";
    Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!lock.valid())
        return Error::from_errno("open lock file ", quoted(lock_path));
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            return Error::with_code(EADDRINUSE, "another server holds ", quoted(lock_path));
        return Error::from_errno("lock ", quoted(lock_path));
    }
    return lock;
}

} // namespace

Result<UnixListener> open_unix_listener(const std::string& path)
{
    auto address = address_of(path);
    if (!address)
        return std::move(address).error();
    const auto temporary = cat(path, ".", ::getpid(), ".new");
    auto temporary_address = address_of(temporary);
    if (!temporary_address)
        return std::move(temporary_address).error();
    auto lock = take_lock(path);
    if (!lock)
        return std::move(lock).error();
    if (auto r = check_existing(path, *address); !r)
        return std::move(r).error();
    Fd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!socket.valid())
        return Error::from_errno("create unix socket");
    ::unlink(temporary.c_str()); // a leftover of this pid's earlier life
    if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(&*temporary_address),
               sizeof *temporary_address) < 0)
        return Error::from_errno("bind unix socket ", quoted(temporary));
    // fchmod on a socket fd does not reach the file; chmod the name we just made, before anyone
    // can learn it (it only appears under path after the rename).
    if (::chmod(temporary.c_str(), 0600) < 0 || ::listen(socket.get(), SOMAXCONN) < 0 ||
        ::rename(temporary.c_str(), path.c_str()) < 0) {
        auto error = Error::from_errno("set up unix socket ", quoted(path));
        ::unlink(temporary.c_str());
        return error;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) < 0)
        return Error::from_errno("stat ", quoted(path));
    return UnixListener{std::move(socket), std::move(*lock), path, st.st_ino, st.st_dev};
}

void remove_unix_listener(const UnixListener& listener)
{
    struct stat named {};
    if (listener.path.empty() || ::lstat(listener.path.c_str(), &named) < 0)
        return;
    if (named.st_ino == listener.inode && named.st_dev == listener.device)
        ::unlink(listener.path.c_str());
}

Result<uid_t> peer_uid(int fd)
{
    ucred credentials{};
    socklen_t size = sizeof credentials;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) < 0)
        return Error::from_errno("read peer credentials");
    return credentials.uid;
}

} // namespace berth::api
