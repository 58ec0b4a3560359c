// runtime/rootfs.cpp — the child's mounts, devices and root switch. Async-signal-safe: runs
// between clone() and execve() (see child.cpp); all data comes from the ChildPlan.
//
// Mount targets are resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from the
// rootfs, and the mount goes onto /proc/self/fd/N (or move_mount() onto the fd): a symlink in
// the container image ("etc -> /etc" or "../../..") is followed as if the rootfs were "/", so it
// can never place a mount outside the container's root.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include "runtime/child_plan.hpp"

namespace berth::runtime {
namespace {

constexpr std::size_t path_max = 4096;

struct Fault { // where we are, for the error report
    ChildStep* step;
    int* index;
    int fail(ChildStep s, int i = 0) const noexcept
    {
        *step = s;
        *index = i;
        return -1;
    }
};

int open_in_root(int root, const char* path, int flags) noexcept
{
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    if (*path == '\0')
        path = ".";
    return static_cast<int>(::syscall(SYS_openat2, root, path, &how, sizeof how));
}

const char* fd_path(char (&buf)[32], int fd) noexcept
{
    static const char prefix[] = "/proc/self/fd/";
    std::memcpy(buf, prefix, sizeof prefix - 1);
    char digits[12];
    int n = 0;
    do {
        digits[n++] = static_cast<char>('0' + fd % 10);
        fd /= 10;
    } while (fd > 0 && n < 11);
    std::size_t at = sizeof prefix - 1;
    while (n > 0)
        buf[at++] = digits[--n];
    buf[at] = '\0';
    return buf;
}

// O_PATH fd of the deepest existing ancestor of buf[0, *have) (the root itself at worst); *have
// becomes the offset of the first missing component.
int open_existing_ancestor(int root, char* buf, std::size_t* have) noexcept
{
    std::size_t end = *have;
    for (;;) {
        while (end > 0 && buf[end - 1] != '/')
            --end; // the start of the last component tried
        std::size_t cut = end;
        while (cut > 0 && buf[cut - 1] == '/')
            --cut;
        *have = end;
        if (cut == 0)
            return open_in_root(root, ".", O_PATH | O_DIRECTORY);
        const char saved = buf[cut];
        buf[cut] = '\0';
        const int fd = open_in_root(root, buf, O_PATH | O_DIRECTORY);
        buf[cut] = saved;
        if (fd >= 0 || errno != ENOENT)
            return fd;
        end = cut;
    }
}

// Creates each missing component of `rel` inside root (the last one as an empty file when
// !last_is_dir) and returns an O_PATH fd of the target. Most targets exist in the image (/proc,
// /dev, /sys): one lookup. Otherwise the deepest existing ancestor is found walking back, and
// each missing component is made in its parent and re-resolved from the root, so a component
// swapped for a symlink meanwhile still cannot lead outside.
int make_target(int root, const char* rel, bool last_is_dir) noexcept
{
    char buf[path_max];
    std::size_t len = std::strlen(rel);
    if (len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    std::memcpy(buf, rel, len + 1);
    while (len > 0 && buf[len - 1] == '/')
        buf[--len] = '\0';
    const int fd = open_in_root(root, buf, O_PATH);
    if (fd >= 0 || errno != ENOENT || len == 0)
        return fd;
    std::size_t start = len;
    int parent = open_existing_ancestor(root, buf, &start);
    if (parent < 0)
        return -1;
    for (;;) {
        std::size_t end = start;
        while (end < len && buf[end] != '/')
            ++end;
        const bool last = end == len;
        buf[end] = '\0';
        int r;
        if (last && !last_is_dir) {
            r = ::openat(parent, buf + start, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
                         0644);
            if (r >= 0) {
                ::close(r);
                r = 0;
            }
        } else {
            r = ::mkdirat(parent, buf + start, 0755);
        }
        const int saved = errno;
        ::close(parent);
        if (r < 0 && saved != EEXIST) {
            errno = saved;
            return -1;
        }
        parent = open_in_root(root, buf, last ? O_PATH : O_PATH | O_DIRECTORY);
        if (parent < 0 || last)
            return parent;
        buf[end] = '/';
        start = end;
        while (start < len && buf[start] == '/')
            ++start;
    }
}

// open_tree(CLONE) + mount_setattr + move_mount: the flags are set on the detached copy, so the
// mount never appears writable, even for a moment. source_fd >= 0 replaces m.source.
int bind_mount(const MountPlan& m, int target, int source_fd = -1) noexcept
{
    const unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m.recursive ? AT_RECURSIVE : 0);
    const int tree = static_cast<int>(
        source_fd >= 0 ? ::syscall(SYS_open_tree, source_fd, "", flags | AT_EMPTY_PATH)
                       : ::syscall(SYS_open_tree, AT_FDCWD, m.source, flags));
    if (tree < 0)
        return -1;
    mount_attr attr{};
    attr.attr_set = m.attr_set;
    attr.attr_clr = m.attr_clr;
    int r = 0;
    if (attr.attr_set || attr.attr_clr)
        r = static_cast<int>(
            ::syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr));
    if (r == 0 && (m.rec_attr_set || m.rec_attr_clr)) {
        mount_attr rec{};
        rec.attr_set = m.rec_attr_set;
        rec.attr_clr = m.rec_attr_clr;
        r = static_cast<int>(
            ::syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &rec, sizeof rec));
    }
    if (r == 0)
        r = static_cast<int>(::syscall(SYS_move_mount, tree, "", target, "",
                                       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH));
    const int saved = errno;
    ::close(tree);
    errno = saved;
    return r;
}

// A tmpfs over an existing directory keeps that directory's mode (runc does the same), so
// "mode=1777" in the options does not loosen a 0755 /etc. Returns 0 if there was none.
mode_t existing_tmpfs_mode(int root, const MountPlan& m) noexcept
{
    if (m.bind || m.self || m.fstype == nullptr || std::strcmp(m.fstype, "tmpfs") != 0)
        return 0;
    const int fd = open_in_root(root, m.target, O_PATH);
    if (fd < 0)
        return 0;
    struct stat st {};
    const int r = ::fstat(fd, &st);
    ::close(fd);
    return r == 0 && S_ISDIR(st.st_mode) ? (st.st_mode & 07777) : 0;
}

// tmpcopyup: what the tmpfs now covers, copied into it (runc and crun do the same).
int copy_up(int root, const MountPlan& m, int covered) noexcept
{
    const int top = open_in_root(root, m.target, O_RDONLY | O_DIRECTORY);
    if (top < 0)
        return -1;
    const int r = copy_tree(covered, top);
    const int saved = errno;
    ::close(top);
    errno = saved;
    return r;
}

int do_mount(int root, const MountPlan& m, const Fault& fault, int i) noexcept
{
    const mode_t keep_mode = existing_tmpfs_mode(root, m);
    int target = make_target(root, m.target, m.target_is_dir);
    if (target < 0)
        return fault.fail(ChildStep::MountTarget, i);
    // Only an allow-list of mounts may land on procfs (/proc itself, a few lxcfs-style files):
    // checked on the resolved target, so a symlink in the image cannot route a mount there.
    if (!m.proc_ok && on_procfs(target)) {
        ::close(target);
        errno = EPERM;
        return fault.fail(ChildStep::ProcMount, i);
    }
    const int covered = m.copy_up ? open_in_root(root, m.target, O_RDONLY | O_DIRECTORY) : -1;
    if (m.copy_up && covered < 0) {
        ::close(target);
        return fault.fail(ChildStep::MountTarget, i);
    }
    char path[32];
    mount_attr attr{};
    attr.attr_set = m.attr_set;
    // self: change the flags of the mount at the target in place (no new mount).
    int r = m.self ? static_cast<int>(::syscall(SYS_mount_setattr, target, "", AT_EMPTY_PATH, &attr,
                                                sizeof attr))
            : m.bind ? bind_mount(m, target)
                     : ::mount(m.source, fd_path(path, target), m.fstype, m.flags, m.data);
    ::close(target);
    if (r == 0 && covered >= 0)
        r = copy_up(root, m, covered);
    if (covered >= 0) {
        const int saved = errno;
        ::close(covered);
        errno = saved;
    }
    if (r < 0)
        return fault.fail(ChildStep::Mount, i);
    if (keep_mode != 0) {
        target = open_in_root(root, m.target, O_PATH); // the new tmpfs on top
        r = target < 0 ? -1 : ::chmod(fd_path(path, target), keep_mode);
        if (target >= 0)
            ::close(target);
        if (r < 0 && errno != EROFS) // a read-only tmpfs keeps the mode its options gave
            return fault.fail(ChildStep::Mount, i);
        r = 0;
    }
    if (m.propagation_count == 0)
        return 0;
    // The fd saw the covered directory; reopen to reach the new mount on top.
    target = open_in_root(root, m.target, O_PATH);
    if (target < 0)
        return fault.fail(ChildStep::MountTarget, i);
    for (int p = 0; p < m.propagation_count && r == 0; ++p)
        r = ::mount(nullptr, fd_path(path, target), nullptr, m.propagation[p], nullptr);
    ::close(target);
    return r < 0 ? fault.fail(ChildStep::MountPropagate, i) : 0;
}

// Splits "dev/pts/0" into an O_PATH|O_DIRECTORY fd of "dev/pts" (made if missing) and "0".
int open_parent(int root, const char* rel, const char** name) noexcept
{
    const char* slash = std::strrchr(rel, '/');
    if (!slash) {
        *name = rel;
        return open_in_root(root, ".", O_PATH | O_DIRECTORY);
    }
    char dir[path_max];
    const auto n = static_cast<std::size_t>(slash - rel);
    if (n >= sizeof dir) {
        errno = ENAMETOOLONG;
        return -1;
    }
    std::memcpy(dir, rel, n);
    dir[n] = '\0';
    *name = slash + 1;
    const int fd = make_target(root, dir, true);
    if (fd < 0)
        return -1;
    // make_target gives O_PATH, enough for *at() calls on a directory.
    return fd;
}

int make_device(int root, const DevicePlan& d) noexcept
{
    char path[32];
    if (d.bind) { // no mknod in a user namespace: bind the host's node instead
        const int target = make_target(root, d.target, false);
        if (target < 0)
            return -1;
        const int r = ::mount(d.host, fd_path(path, target), nullptr, MS_BIND, nullptr);
        ::close(target);
        return r;
    }
    const char* name = nullptr;
    const int parent = open_parent(root, d.target, &name);
    if (parent < 0)
        return -1;
    int r = ::mknodat(parent, name, d.mode, d.dev);
    if (r == 0)
        r = ::fchmodat(parent, name, d.mode & 07777, 0) == 0 &&
                    ::fchownat(parent, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) == 0
                ? 0
                : -1;
    else if (errno == EEXIST)
        r = 0;
    const int saved = errno;
    ::close(parent);
    errno = saved;
    return r;
}

int make_symlink(int root, const SymlinkPlan& s) noexcept
{
    const char* name = nullptr;
    const int parent = open_parent(root, s.linkpath, &name);
    if (parent < 0)
        return -1;
    int r = ::symlinkat(s.target, parent, name);
    if (r < 0 && errno == EEXIST)
        r = 0;
    const int saved = errno;
    ::close(parent);
    errno = saved;
    return r;
}

// shared and unbindable cannot be set before pivot_root (it refuses a shared parent mount, and
// an unbindable rootfs cannot be bound onto itself): they go on the new root once it is built,
// as in runc. Until then the tree was private, so nothing we mounted reached the host.
bool late(unsigned long propagation) noexcept
{
    return (propagation & (MS_SHARED | MS_UNBINDABLE)) != 0;
}

int late_propagation(const ChildPlan& plan, const Fault& fault) noexcept
{
    if (!late(plan.rootfs_propagation))
        return 0;
    if (::mount(nullptr, "/", nullptr, plan.rootfs_propagation, nullptr) < 0)
        return fault.fail(ChildStep::MountPropagation);
    return 0;
}

int switch_root(const ChildPlan& plan, const Fault& fault) noexcept
{
    if (::chdir(plan.rootfs) < 0)
        return fault.fail(ChildStep::PivotRoot);
    if (!plan.has_mount || plan.no_pivot) {
        if (plan.has_mount && ::mount(".", "/", nullptr, MS_MOVE, nullptr) < 0)
            return fault.fail(ChildStep::PivotRoot);
        if (::chroot(".") < 0 || ::chdir("/") < 0)
            return fault.fail(ChildStep::PivotRoot);
        return 0;
    }
    // pivot_root(".", "."): the old root ends up stacked under the new one at "/"; make it a
    // slave so unmounting it cannot propagate to the host, then detach it.
    if (::syscall(SYS_pivot_root, ".", ".") < 0)
        return fault.fail(ChildStep::PivotRoot);
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0 ||
        ::umount2(".", MNT_DETACH) < 0 || ::chdir("/") < 0)
        return fault.fail(ChildStep::PivotRoot);
    return 0;
}

// The null device masks are bound from: the container's /dev/null opened without following a
// symlink and checked to be the character device 1:3, then used by fd, so a symlink or a file
// planted there (CVE-2025-31133) is never what covers a masked path.
int open_verified_null(int root) noexcept
{
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const int fd = static_cast<int>(::syscall(SYS_openat2, root, "dev/null", &how, sizeof how));
    if (fd < 0)
        return -1;
    struct stat st {};
    if (::fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
        ::close(fd);
        errno = ENODEV;
        return -1;
    }
    return fd;
}

// A read-only empty tmpfs, made detached and moved onto the target fd: no path is resolved in
// the container (no /proc/self/fd) once the target is open.
int mount_empty_tmpfs(int target) noexcept
{
    const int fs = static_cast<int>(::syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
    if (fs < 0)
        return -1;
    int mnt = -1;
    if (::syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0)
        mnt = static_cast<int>(::syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY));
    int saved = errno;
    ::close(fs);
    if (mnt < 0) {
        errno = saved;
        return -1;
    }
    const int r = static_cast<int>(::syscall(SYS_move_mount, mnt, "", target, "",
                                             MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH));
    saved = errno;
    ::close(mnt);
    errno = saved;
    return r;
}

// *null_fd: the verified /dev/null, opened on the first masked file (-1 until then).
int mask_path(int root, const char* path, int* null_fd, const Fault& fault, int i) noexcept
{
    const int fd = open_in_root(root, path, O_PATH);
    if (fd < 0)
        return errno == ENOENT ? 0 : fault.fail(ChildStep::MaskPath, i);
    struct stat st {};
    int r = ::fstat(fd, &st);
    if (r == 0 && S_ISDIR(st.st_mode)) {
        r = mount_empty_tmpfs(fd);
    } else if (r == 0) {
        if (*null_fd < 0)
            *null_fd = open_verified_null(root);
        if (*null_fd < 0) {
            ::close(fd);
            return fault.fail(ChildStep::NullDevice, i);
        }
        r = bind_mount(MountPlan{}, fd, *null_fd);
    }
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return r < 0 ? fault.fail(ChildStep::MaskPath, i) : 0;
}

int readonly_path(int root, const char* path) noexcept
{
    const int fd = open_in_root(root, path, O_PATH);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    MountPlan m;
    m.recursive = true;
    m.rec_attr_set = MOUNT_ATTR_RDONLY;
    const int r = bind_mount(m, fd, fd);
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return r;
}

} // namespace

int setup_rootfs(const ChildPlan& plan, ChildStep* step, int* index) noexcept
{
    const Fault fault{step, index};
    // Nothing we mount may propagate back to the host: private (or the slave/private asked for)
    // until the root is switched; shared and unbindable are applied after (late_propagation).
    const unsigned long asked = plan.rootfs_propagation;
    const unsigned long propagation = asked && !late(asked) ? asked | MS_REC : MS_PRIVATE | MS_REC;
    if (::mount(nullptr, "/", nullptr, propagation, nullptr) < 0)
        return fault.fail(ChildStep::MountPropagation);
    // pivot_root needs the new root to be a mount point.
    if (::mount(plan.rootfs, plan.rootfs, nullptr, MS_BIND | MS_REC, nullptr) < 0)
        return fault.fail(ChildStep::BindRootfs);
    const int root = ::open(plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return fault.fail(ChildStep::OpenRootfs);
    int r = 0;
    for (std::size_t i = 0; i < plan.mount_count && r == 0; ++i)
        r = do_mount(root, plan.mounts[i], fault, static_cast<int>(i));
    for (std::size_t i = 0; i < plan.device_count && r == 0; ++i)
        if (make_device(root, plan.devices[i]) < 0)
            r = fault.fail(ChildStep::Device, static_cast<int>(i));
    for (std::size_t i = 0; i < plan.symlink_count && r == 0; ++i)
        if (make_symlink(root, plan.symlinks[i]) < 0)
            r = fault.fail(ChildStep::DevSymlink, static_cast<int>(i));
    if (r == 0 && plan.process.bind_console) { // the pty is bound here by setup_console
        const int console = make_target(root, "dev/console", false);
        if (console < 0)
            r = fault.fail(ChildStep::Console);
        else
            ::close(console);
    }
    const int saved = errno;
    ::close(root);
    errno = saved;
    return r;
}

int finish_rootfs(const ChildPlan& plan, ChildStep* step, int* index) noexcept
{
    const Fault fault{step, index};
    // The procfs handle for sysctls is taken before the switch: its fallback, /proc as we see
    // it, is then still the caller's, not one the container's image or config chose.
    const int procfs = plan.sysctl_count ? open_procfs() : -1;
    if (plan.sysctl_count && procfs < 0)
        return fault.fail(ChildStep::Procfs);
    int r = switch_root(plan, fault);
    for (std::size_t i = 0; i < plan.sysctl_count && r == 0; ++i)
        if (write_sysctl(procfs, plan.sysctls[i]) < 0)
            r = fault.fail(ChildStep::Sysctl, static_cast<int>(i));
    if (procfs >= 0) {
        const int saved = errno;
        ::close(procfs);
        errno = saved;
    }
    if (r < 0 || !plan.has_mount)
        return r;
    const int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return fault.fail(ChildStep::OpenRootfs);
    int null_fd = -1;
    for (int i = 0; plan.masked && plan.masked[i] && r == 0; ++i)
        r = mask_path(root, plan.masked[i], &null_fd, fault, i);
    if (null_fd >= 0)
        ::close(null_fd);
    for (int i = 0; plan.readonly && plan.readonly[i] && r == 0; ++i)
        if (readonly_path(root, plan.readonly[i]) < 0)
            r = fault.fail(ChildStep::ReadonlyPath, i);
    ::close(root);
    if (r == 0 && plan.readonly_root) {
        mount_attr ro{};
        ro.attr_set = MOUNT_ATTR_RDONLY;
        if (::syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &ro, sizeof ro) < 0)
            r = fault.fail(ChildStep::ReadonlyRoot);
    }
    // Last: an unbindable tree could not give the masks their binds any more.
    return r == 0 ? late_propagation(plan, fault) : r;
}

} // namespace berth::runtime
