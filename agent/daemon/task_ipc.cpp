// agent/daemon/task_ipc.cpp — ipcMode "task"'s namespace and /dev/shm (task_ipc.hpp). The
// namespace is made as net/netns.cpp makes a task's netns: a helper thread unshares, its nsfs
// inode is bind-mounted on a file, and the kernel keeps the namespace while that mount exists.
// Runs as root on the host.
#include "agent/daemon/task_ipc.hpp"
#include <fcntl.h>
#include <sched.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <filesystem>
#include <thread>
#include "base/fd.hpp"
#include "base/files.hpp"

namespace berth::daemon {
namespace {

// An IPC namespace is bind-mounted there (a plain file, a crash before the mount, is not).
bool holds_ipc_namespace(const std::string& path)
{
    const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    return fd.valid() && ::ioctl(fd.get(), NS_GET_NSTYPE) == CLONE_NEWIPC;
}

// Something is mounted on `dir` (its device differs from its parent's).
bool is_mount_point(const std::string& dir)
{
    struct stat self {};
    struct stat parent {};
    return ::stat(dir.c_str(), &self) == 0 && ::stat(cat(dir, "/..").c_str(), &parent) == 0 &&
           self.st_dev != parent.st_dev;
}

// Every mount stacked on path (a repeated mount, by a hand or a bug), until none is left.
Result<void> unmount_all(const std::string& path)
{
    for (int i = 0; i < 16; ++i)
        if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
            if (errno == EINVAL || errno == ENOENT) // not (or no longer) a mount point
                return {};
            return Error::from_errno("unmount ", quoted(path));
        }
    return Error::with_code(EBUSY, "unmount ", quoted(path), ": still mounted after 16 unmounts");
}

Result<void> make_namespace(const std::string& path)
{
    if (holds_ipc_namespace(path))
        return {}; // Provision again after a restart: the task's containers are in it
    if (auto r = unmount_all(path); !r)
        return r;
    if (::unlink(path.c_str()) < 0 && errno != ENOENT)
        return Error::from_errno("remove stale ", quoted(path));
    const Fd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
    if (!file.valid())
        return Error::from_errno("create ", quoted(path));
    Fd ns;
    Result<void> made;
    // Unshared on a thread of its own, joined at once: berthd's threads never change namespace.
    std::thread helper([&] {
        if (::unshare(CLONE_NEWIPC) < 0) {
            made = Error::from_errno("unshare the IPC namespace");
            return;
        }
        ns.reset(::open("/proc/thread-self/ns/ipc", O_RDONLY | O_CLOEXEC));
        if (!ns.valid())
            made = Error::from_errno("open /proc/thread-self/ns/ipc");
    });
    helper.join();
    if (made) {
        // The namespace lives while ns is open; the bind mount keeps it once ns is closed.
        const auto source = cat("/proc/self/fd/", ns.get());
        if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) < 0)
            made = Error::from_errno("bind-mount the IPC namespace on ", quoted(path));
    }
    if (!made)
        ::unlink(path.c_str());
    return made;
}

Result<void> make_shm(const std::string& dir, std::uint32_t mib)
{
    if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST)
        return Error::from_errno("mkdir ", quoted(dir));
    if (is_mount_point(dir))
        return {}; // made before a restart: it holds the containers' shared memory
    // Docker's options for a shared /dev/shm.
    const auto options = cat("mode=1777,size=", mib, "m");
    if (::mount("shm", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options.c_str()) < 0)
        return Error::from_errno("mount the task's /dev/shm tmpfs on ", quoted(dir));
    return {};
}

} // namespace

TaskIpc task_ipc(const std::string& tasks_dir, const std::string& task_id)
{
    return TaskIpc{cat(tasks_dir, "/", task_id)};
}

Result<void> make_task_ipc(const TaskIpc& ipc, std::uint32_t shm_mib)
{
    if (auto r = make_directories(ipc.dir, 0700); !r)
        return std::move(r).error().wrap("ipcMode task");
    auto made = make_namespace(ipc.ns_path());
    if (made)
        made = make_shm(ipc.shm_dir(), shm_mib);
    if (made)
        return {};
    (void)remove_task_ipc(ipc); // nothing half-made stays
    return std::move(made).error().wrap("ipcMode task");
}

Result<void> remove_task_ipc(const TaskIpc& ipc)
{
    if (auto r = unmount_all(ipc.shm_dir()); !r)
        return std::move(r).error().wrap("ipcMode task");
    if (::rmdir(ipc.shm_dir().c_str()) < 0 && errno != ENOENT)
        return Error::from_errno("ipcMode task: remove ", quoted(ipc.shm_dir()));
    if (auto r = unmount_all(ipc.ns_path()); !r)
        return std::move(r).error().wrap("ipcMode task");
    if (::unlink(ipc.ns_path().c_str()) < 0 && errno != ENOENT)
        return Error::from_errno("ipcMode task: remove ", quoted(ipc.ns_path()));
    if (::rmdir(ipc.dir.c_str()) < 0 && errno != ENOENT)
        return Error::from_errno("ipcMode task: remove ", quoted(ipc.dir));
    return {};
}

std::vector<std::string> stale_task_ipc(const std::string& tasks_dir,
                                        const std::set<std::string>& keep)
{
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(tasks_dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        if (keep.count(it->path().filename().string()) == 0)
            out.push_back(it->path().filename().string());
    return out;
}

} // namespace berth::daemon
