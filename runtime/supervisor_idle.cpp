// runtime/supervisor_idle.cpp — berth-supervisor's socket (bound here, or passed by systemd's
// socket activation) and its idle exit: it runs only while there is something to supervise, the
// way systemd's on-demand daemons do. Idle means: no process it watches, no child at all (an
// orphan it inherited as subreaper counts), no log pipe left to drain, no journald backlog, and
// no request in its socket's backlog (requests are served one at a time on the loop, so none is
// ever half-served when the loop looks). Once idle for Listening::idle_exit it leaves:
//  - self-listening (berthd spawned it): under the flock berthd's ensure_supervisor takes
//    (<socket dir>/supervisor.lock), it renames the socket aside (<socket>.leaving) so that new
//    clients fail with ENOENT and go to ensure_supervisor (which waits for this lock), then
//    serves what is still queued; a request served there cancels the exit (the socket is renamed
//    back, still under the lock). Leaving, it unlinks <socket>.leaving.
//    Otherwise it removes <socket dir>/supervisor.pid (when it names this process) and returns;
//    the lock goes with the process. A client whose connect raced the rename is reset when the
//    listener closes, before its request was read: it retries (supervisor_client.cpp).
//  - activated: the socket is systemd's and is never unlinked; the backlog is served the same
//    way, and a connection queued after that makes systemd start the service again.
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>
#include "base/files.hpp"
#include "base/log.hpp"
#include "base/strings.hpp"
#include "base/unix_datagram.hpp"
#include "runtime/supervisor_internal.hpp"

namespace berth::runtime {
namespace {

Result<Fd> listen_on(const std::string& path)
{
    auto addr = unix_path_address(path);
    if (!addr)
        return std::move(addr).error().wrap("supervisor socket path");
    Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return Error::from_errno("socket");
    (void)::unlink(path.c_str()); // a stale socket of a previous supervisor
    // Under berth-supervisor's umask 022 others cannot connect (no write) even before chmod.
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), addr->length) < 0)
        return Error::from_errno("bind ", berth::quoted(path));
    if (::chmod(path.c_str(), 0600) < 0)
        return Error::from_errno("chmod ", berth::quoted(path));
    if (::listen(fd.get(), 128) < 0)
        return Error::from_errno("listen ", berth::quoted(path));
    return fd;
}

// The socket systemd passed must be what berth-supervisor.socket declares: a listening
// SOCK_SEQPACKET unix socket. Anything else is a unit file mistake, said plainly.
Result<void> check_inherited(const Fd& fd)
{
    int type = 0, listening = 0, family = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return Error::from_errno("the socket passed by the service manager (fd ", fd.get(), ")");
    len = sizeof listening;
    (void)::getsockopt(fd.get(), SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
    len = sizeof family;
    (void)::getsockopt(fd.get(), SOL_SOCKET, SO_DOMAIN, &family, &len);
    if (type != SOCK_SEQPACKET || listening == 0 || family != AF_UNIX)
        return Error::invalid("the socket passed by the service manager is not a listening "
                              "AF_UNIX SOCK_SEQPACKET socket (ListenSequentialPacket=)");
    return {};
}

std::string sibling(const std::string& socket_path, const char* name)
{
    const auto slash = socket_path.rfind('/');
    return (slash == std::string::npos ? std::string(".") : socket_path.substr(0, slash)) + "/" +
           name;
}

// Each hierarchy this process is in, from /proc/self/cgroup: where it is mounted and this
// process's path in it. "0::/path" is cgroup v2 (/sys/fs/cgroup, or /sys/fs/cgroup/unified on
// hybrid hosts), "N:controllers:/path" a v1 hierarchy (/sys/fs/cgroup/<controllers>).
struct Hierarchy {
    std::string root, path;
    bool systemd; // the unified hierarchy or name=systemd: where systemd places the unit
};

std::vector<Hierarchy> own_hierarchies()
{
    std::vector<Hierarchy> out;
    auto text = read_file("/proc/self/cgroup");
    if (!text)
        return out;
    for (const auto line : split(*text, '\n')) {
        const auto first = line.find(':');
        const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
        if (second == std::string_view::npos)
            continue;
        auto controllers = std::string(line.substr(first + 1, second - first - 1));
        const auto path = std::string(line.substr(second + 1));
        const bool named_systemd = controllers == "name=systemd";
        if (controllers.rfind("name=", 0) == 0)
            controllers = controllers.substr(5);
        if (controllers.empty()) {
            for (const char* root : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"})
                if (::access((std::string(root) + "/cgroup.controllers").c_str(), F_OK) == 0) {
                    out.push_back({root, path, true});
                    break;
                }
        } else {
            out.push_back({cat("/sys/fs/cgroup/", controllers), path, named_systemd});
        }
    }
    return out;
}

std::string without_leaf(const std::string& path)
{
    const auto slash = path.rfind('/');
    return slash != std::string::npos &&
                   path.compare(slash + 1, std::string::npos, "supervisor") == 0
               ? path.substr(0, slash)
               : path;
}

// Under systemd the containers' cgroups are below this unit's cgroup (berthd.service's
// BERTH_CGROUP_ROOT) in every hierarchy, and the supervisor sits in its leaf "supervisor"
// (cgroup v2, berth-supervisor-start). Leaving while a container's cgroup is still there (it
// ended, berthd has not removed it yet) would let systemd prune it under berthd, and on cgroup
// v2 the unit's cgroup would keep its controllers: systemd could not start the unit again
// (219/CGROUP). So the unit's cgroup must hold nothing but the leaf, in each hierarchy. The
// unit's path is the one systemd gave it (unified or name=systemd): in the v1 hierarchies systemd
// does not manage (freezer, cpuset, net_cls, ...) this process sits at the root, where other
// software's cgroups must not count.
bool unit_cgroup_in_use()
{
    const auto hierarchies = own_hierarchies();
    std::string unit;
    for (const auto& h : hierarchies)
        if (h.systemd)
            unit = without_leaf(h.path);
    if (unit.empty() || unit == "/")
        return false; // not in a unit of its own: nothing of systemd's to keep
    for (const auto& h : hierarchies) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(h.root + unit, ec))
            if (entry.path().filename() != "supervisor" && entry.is_directory(ec))
                return true;
    }
    return false;
}

// cgroup v2, about to leave the leaf "supervisor": the unit's cgroup hands no controllers down
// any more, so that systemd may place the next supervisor in it even if it is not removed.
void release_unit_controllers()
{
    for (const auto& h : own_hierarchies()) {
        const auto dir = h.root + h.path;
        const auto slash = dir.rfind('/');
        if (dir.compare(slash + 1, std::string::npos, "supervisor") != 0)
            continue;
        const auto control = dir.substr(0, slash) + "/cgroup.subtree_control";
        auto enabled = read_file(control);
        if (!enabled)
            continue;
        std::string off;
        for (const auto name : split(trim(*enabled), ' '))
            if (!name.empty())
                off += cat(off.empty() ? "" : " ", "-", name);
        if (!off.empty())
            (void)write_file(control, off);
    }
}

} // namespace

namespace supervisor_detail {

// Nothing to supervise and nothing in flight (the socket's backlog aside: leave() serves it).
bool Supervisor::idle()
{
    if (!watched_.empty() || !pump_.idle())
        return false;
    if (listening_.activated && unit_cgroup_in_use())
        return false;
    // ECHILD: no child at all, alive or a zombie (an orphan inherited as subreaper is a child).
    siginfo_t info{};
    return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD;
}

// How long the loop may sleep: forever without an idle exit or while a watched process will
// wake it; until the deadline once idle; otherwise a second, to look again at what has no event
// of its own (the log pump's pipes and journald backlog, orphans).
int Supervisor::idle_timeout_ms()
{
    if (listening_.idle_exit.count() <= 0 || !watched_.empty())
        return -1;
    if (!idle_since_)
        return 1000;
    const auto left = *idle_since_ + listening_.idle_exit - std::chrono::steady_clock::now();
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return ms <= 0 ? 0 : static_cast<int>(std::min<long long>(ms, 1000));
}

// True when the supervisor is to return now (it left).
bool Supervisor::idle_check()
{
    if (listening_.idle_exit.count() <= 0)
        return false;
    if (!idle()) {
        idle_since_.reset();
        return false;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!idle_since_) {
        idle_since_ = now;
        return false;
    }
    if (now - *idle_since_ < listening_.idle_exit)
        return false;
    if (leave())
        return true;
    idle_since_.reset(); // stayed: a full idle time again before the next try
    return false;
}

// Serves every connection queued on the listener now; true when there was one.
bool Supervisor::serve_backlog()
{
    bool served = false;
    for (;;) {
        pollfd p{listener_.get(), POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0)
            return served;
        Fd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn.valid())
            return served;
        handle_connection(std::move(conn));
        served = true;
    }
}

namespace {
// Whether path (the socket path, or its name aside) is the file this supervisor's bind() made.
bool is_own_socket(const Listening& listening, const std::string& path)
{
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && st.st_dev == listening.socket_dev &&
           st.st_ino == listening.socket_ino;
}
} // namespace

// After a cancelled exit (self-listening): the listener's own socket file back at the path,
// still under the lock. A rename, not a new bind: it cannot fail for want of memory or a name,
// which would leave a supervisor with containers that nobody can reach. RENAME_NOREPLACE: a
// socket unit started meanwhile may have bound its own socket at the path, which stays.
void Supervisor::restore_socket_path()
{
    const auto aside = listening_.socket_path + ".leaving";
    if (::renameat2(AT_FDCWD, aside.c_str(), AT_FDCWD, listening_.socket_path.c_str(),
                    RENAME_NOREPLACE) < 0)
        log::error(Error::from_errno("rename ", berth::quoted(aside)),
                   "berth-supervisor: cannot put its socket back; it stays, unreachable, until "
                   "its containers end",
                   {{"socket", listening_.socket_path}});
}

// The exit itself (see the top of this file); false: it stays.
bool Supervisor::leave()
{
    const auto lock_path = sibling(listening_.socket_path, "supervisor.lock");
    bool moved_aside = false;
    if (!listening_.activated) {
        Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        // Held: berthd is checking or spawning right now, and is about to connect. Stay.
        if (!lock.valid() || ::flock(lock.get(), LOCK_EX | LOCK_NB) < 0)
            return false;
        // Moved aside, not unlinked: new clients fail with ENOENT while the listener, bound to
        // that file, can still be given back its name if the exit is cancelled. A path that is
        // no longer this listener's file (a socket unit bound its own there) is left alone:
        // nobody reaches this supervisor through it anyway.
        if (is_own_socket(listening_, listening_.socket_path)) {
            const auto aside = listening_.socket_path + ".leaving";
            if (::rename(listening_.socket_path.c_str(), aside.c_str()) < 0)
                return false;
            moved_aside = true;
        }
        exit_lock_ = std::move(lock);
    }
    const bool served = serve_backlog();
    if (served || !idle()) {
        if (moved_aside)
            restore_socket_path();
        exit_lock_.reset();
        return false;
    }
    if (listening_.activated)
        release_unit_controllers();
    if (!listening_.activated) {
        // Its name aside: moved there now, or left there by a restore that failed earlier.
        const auto aside = listening_.socket_path + ".leaving";
        if (moved_aside || is_own_socket(listening_, aside))
            (void)::unlink(aside.c_str());
        const auto pid_path = sibling(listening_.socket_path, "supervisor.pid");
        const auto text = read_file(pid_path);
        if (text && trim(text->substr(0, text->find('\n'))) == std::to_string(::getpid()))
            (void)::unlink(pid_path.c_str());
    }
    return true;
}

} // namespace supervisor_detail

Result<void> run_supervisor(SupervisorSettings settings)
{
    supervisor_detail::Listening listening{settings.socket_path, settings.inherited.valid(),
                                           settings.idle_exit};
    Fd listener;
    if (settings.inherited.valid()) {
        if (auto r = check_inherited(settings.inherited); !r)
            return r;
        listener = std::move(settings.inherited);
    } else {
        auto bound = listen_on(settings.socket_path);
        if (!bound)
            return std::move(bound).error();
        listener = std::move(*bound);
        struct stat st {};
        if (::lstat(settings.socket_path.c_str(), &st) < 0) {
            auto error = Error::from_errno("stat ", berth::quoted(settings.socket_path));
            (void)::unlink(settings.socket_path.c_str()); // the file just bound
            return error;
        }
        listening.socket_dev = st.st_dev;
        listening.socket_ino = st.st_ino;
    }
    supervisor_detail::Supervisor supervisor(std::move(listener), std::move(listening));
    return supervisor.run();
}

} // namespace berth::runtime
