// Network namespaces held open by bind mounts (as `ip netns add` does, without the process):
// a helper thread unshares into a new netns, and its nsfs inode is bind-mounted on a file under
// berth's run dir. The calling thread never changes namespace. Runs as root.
#include <fcntl.h>
#include <sched.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <thread>
#include "base/files.hpp"
#include "net/internal.hpp"

namespace berth::net {

Result<void> run_in_netns(int netns_fd, const std::function<Result<void>()>& fn)
{
    Result<void> result;
    // The thread is joined before returning: fn and result outlive it.
    std::thread worker([&] {
        if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) < 0) {
            result = Error::from_errno("enter network namespace");
            return;
        }
        result = fn();
    });
    worker.join();
    return result;
}

Result<void> write_sysctl(const std::string& path, std::string_view value)
{
    return write_file(path, value);
}

Result<Netns> Netns::create(const std::string& path, const std::function<Result<void>()>& inside)
{
    const int file = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (file < 0)
        return Error::from_errno("create netns file ", quoted(path));
    ::close(file);
    Fd ns;
    Result<void> made = run_in_netns(-1, [&]() -> Result<void> {
        if (::unshare(CLONE_NEWNET) < 0)
            return Error::from_errno("unshare network namespace");
        const int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return Error::from_errno("open /proc/thread-self/ns/net");
        ns.reset(fd);
        return inside ? inside() : Result<void>();
    });
    if (!made) {
        ::unlink(path.c_str());
        return std::move(made).error().wrap(cat("create netns ", quoted(path)));
    }
    // The namespace lives while ns is open; the bind mount keeps it once ns is closed.
    const std::string source = cat("/proc/self/fd/", ns.get());
    if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) < 0) {
        Error error = Error::from_errno("bind-mount netns on ", quoted(path));
        ::unlink(path.c_str());
        return error;
    }
    return Netns(path, std::move(ns));
}

Result<Netns> Netns::open(const std::string& path)
{
    auto fd = open_at(AT_FDCWD, path, O_RDONLY);
    if (!fd)
        return std::move(fd).error().wrap("open netns");
    // A plain file (the mount is gone) would be accepted by open() but refused by setns().
    if (::ioctl(fd->get(), NS_GET_NSTYPE) != CLONE_NEWNET)
        return Error::with_code(EINVAL, "open netns ", quoted(path), ": not a namespace");
    Netns ns(path, std::move(*fd));
    ns.keep();
    return ns;
}

Netns::Netns(Netns&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::move(other.fd_)), owned_(other.owned_)
{
    other.owned_ = false;
}

Netns& Netns::operator=(Netns&& other) noexcept
{
    if (this != &other) {
        if (owned_)
            (void)remove();
        path_ = std::move(other.path_);
        fd_ = std::move(other.fd_);
        owned_ = std::exchange(other.owned_, false);
    }
    return *this;
}

Netns::~Netns()
{
    if (owned_)
        (void)remove(); // setup failed midway: nothing of the task may remain
}

Result<void> remove_netns_file(const std::string& path)
{
    // EINVAL: not a mount point (a crash between create and bind mount); still unlink it.
    if (::umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return Error::from_errno("unmount netns ", quoted(path));
    if (::unlink(path.c_str()) < 0 && errno != ENOENT)
        return Error::from_errno("remove netns file ", quoted(path));
    return {};
}

Result<void> Netns::remove()
{
    owned_ = false;
    fd_.reset();
    if (path_.empty())
        return {};
    return remove_netns_file(path_);
}

} // namespace berth::net
