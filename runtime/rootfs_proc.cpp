// runtime/rootfs_proc.cpp — the child's procfs writes and the tmpcopyup copy. Async-signal-safe:
// runs between clone() and execve() (see child.cpp); only raw system calls, stack buffers.
//
// Sysctls (the class of runc's CVE-2025-52881): the container's /proc is a path the image and
// the config control, so a write "by path under /proc/sys" can be redirected (a symlink, a bind
// of another procfs file over the target). The writes go instead through a procfs handle of our
// own: a fresh, detached procfs instance (fsopen/fsmount: nothing can be mounted over it), or,
// where that is not allowed, the /proc we saw before pivot_root (the host's, not the image's),
// checked with fstatfs(PROC_SUPER_MAGIC); each file is opened beneath it with symlinks and mount
// crossings refused.
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include "runtime/child_plan.hpp"

namespace berth::runtime {
namespace {

constexpr int max_copy_depth = 64;

void close_keep_errno(int fd) noexcept
{
    const int saved = errno;
    ::close(fd);
    errno = saved;
}

int fresh_procfs() noexcept
{
    const int fs = static_cast<int>(::syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC));
    if (fs < 0)
        return -1;
    int mnt = -1;
    if (::syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0)
        mnt = static_cast<int>(::syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                                         MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
    close_keep_errno(fs);
    return mnt;
}

// --- tmpcopyup ---

struct Dirent64 { // the kernel's linux_dirent64
    std::uint64_t ino;
    std::int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[1];
};

int copy_file(int from_dir, int to_dir, const char* name, const struct stat& st) noexcept
{
    const int in = ::openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -1;
    const int out = ::openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                             st.st_mode & 07777);
    if (out < 0) {
        close_keep_errno(in);
        return -1;
    }
    int r = 0;
    for (;;) {
        const ssize_t n = ::sendfile(out, in, nullptr, std::size_t{1} << 30);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n < 0 ? -1 : 0;
            break;
        }
    }
    close_keep_errno(in);
    close_keep_errno(out);
    return r;
}

// Owner first, then mode: chown clears set-id bits.
int copy_owner_and_mode(int to_dir, const char* name, const struct stat& st) noexcept
{
    if (::fchownat(to_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    if (S_ISLNK(st.st_mode))
        return 0;
    return ::fchmodat(to_dir, name, st.st_mode & 07777, 0);
}

int copy_directory(int from_dir, int to_dir, const char* name, const struct stat& st,
                   int depth) noexcept
{
    if (::mkdirat(to_dir, name, 0700) < 0 && errno != EEXIST)
        return -1;
    const int from = ::openat(from_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (from < 0)
        return -1;
    const int to = ::openat(to_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int r = to < 0 ? -1 : copy_tree(from, to, depth + 1);
    close_keep_errno(from);
    if (to >= 0)
        close_keep_errno(to);
    if (r == 0)
        r = copy_owner_and_mode(to_dir, name, st);
    return r;
}

int copy_entry(int from_dir, int to_dir, const char* name, int depth) noexcept
{
    struct stat st {};
    if (::fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    int r = 0;
    if (S_ISDIR(st.st_mode))
        return copy_directory(from_dir, to_dir, name, st, depth);
    if (S_ISREG(st.st_mode)) {
        r = copy_file(from_dir, to_dir, name, st);
    } else if (S_ISLNK(st.st_mode)) {
        char target[4096];
        const ssize_t n = ::readlinkat(from_dir, name, target, sizeof target - 1);
        if (n < 0)
            return -1;
        target[n] = '\0';
        r = ::symlinkat(target, to_dir, name);
    } else {
        r = ::mknodat(to_dir, name, st.st_mode, st.st_rdev);
    }
    return r < 0 ? -1 : copy_owner_and_mode(to_dir, name, st);
}

} // namespace

int open_procfs() noexcept
{
    int fd = fresh_procfs();
    if (fd < 0) // no right to mount a procfs here (a user namespace without its own pid one)
        fd = ::open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct statfs fs {};
    if (::fstatfs(fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC) {
        ::close(fd);
        errno = EXDEV;
        return -1;
    }
    return fd;
}

int write_sysctl(int procfs, const SysctlPlan& s) noexcept
{
    static constexpr char prefix[] = "/proc/";
    const char* relative = s.path;
    if (std::strncmp(relative, prefix, sizeof prefix - 1) == 0)
        relative += sizeof prefix - 1;
    open_how how{};
    how.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    const int fd = static_cast<int>(::syscall(SYS_openat2, procfs, relative, &how, sizeof how));
    if (fd < 0)
        return -1;
    struct statfs fs {};
    if (::fstatfs(fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC) {
        ::close(fd);
        errno = EXDEV;
        return -1;
    }
    const ssize_t n = ::write(fd, s.value, s.value_len);
    close_keep_errno(fd);
    return n < 0 ? -1 : 0;
}

bool on_procfs(int fd) noexcept
{
    struct statfs fs {};
    return ::fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

int copy_tree(int from, int to, int depth) noexcept
{
    if (depth > max_copy_depth) {
        errno = ELOOP;
        return -1;
    }
    alignas(Dirent64) char buffer[4096];
    for (;;) {
        const long n = ::syscall(SYS_getdents64, from, buffer, sizeof buffer);
        if (n <= 0)
            return n < 0 ? -1 : 0;
        for (long at = 0; at < n;) {
            const auto* entry = reinterpret_cast<const Dirent64*>(buffer + at);
            at += entry->reclen;
            const char* name = entry->name;
            if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0)
                continue;
            if (copy_entry(from, to, name, depth) < 0)
                return -1;
        }
    }
}

} // namespace berth::runtime
