// runtime/sealed_exe.cpp — reexec_protected (see runtime.hpp): the CVE-2019-5736 class.
// The attack: a container binary whose interpreter is "#!/proc/self/exe" makes a process we
// exec into the container re-execute *our* binary inside it, which then reopens /proc/self/exe
// for writing once we exit and overwrites the runtime on the host. Running from a read-only
// mount of the binary, or from a sealed memfd, leaves nothing on the host writable.
//
// Start-up cost decided the choice (docs/BENCHMARKS.md, "Start time"):
// - a binary already on a read-only mount (a read-only /usr, a read-only bind mount of the
//   installed binary onto itself) is not re-executed at all;
// - otherwise it is re-executed through a detached, read-only bind mount of the binary itself
//   (open_tree(OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_RDONLY), never attached to any mount
//   namespace, so no mount event reaches the host): no copy, the page cache is shared, about
//   0.05 ms against 1.5-3.6 ms for copying the 3 MB binary into a memfd. runc 1.0-1.1 did the
//   same with a bind mount attached for a moment (try_bindfd). A container reaching the binary
//   through /proc/<pid>/exe gets this mount: EROFS on every write. Once the exec closed the
//   tree fd the mount is dissolved (not mounted anywhere), so mount_setattr and open_tree on it
//   fail (EINVAL) even for a caller with CAP_SYS_ADMIN;
// - where open_tree is refused (no CAP_SYS_ADMIN, kernels before 5.12) the binary is copied
//   into a sealed memfd and re-executed, as runc 1.1 and crun do.
// berth-runtime itself avoids the second start altogether where it can (exe_remap.cpp) and is a
// static-pie; berth-supervisor and berth still re-execute here. runc 1.2's detached read-only
// overlayfs was measured slower here: 5-10 ms per start (a new superblock made and torn down each
// time).
#include "runtime/runtime.hpp"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include "base/fd.hpp"
#include "base/trace.hpp"

namespace berth::runtime {
namespace {

constexpr int required_seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
#ifndef MFD_EXEC
// NOLINTNEXTLINE(readability-identifier-naming): the kernel's name, for older headers
constexpr unsigned MFD_EXEC = 0x0010U; // Linux 6.3: say explicitly that the memfd is executable
#endif

Result<Fd> make_memfd()
{
    int fd = ::memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) // kernels before 6.3 do not know MFD_EXEC
        fd = ::memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return Error::from_errno("memfd_create");
    return Fd(fd);
}

Result<void> copy_all(int from, int to, off_t size)
{
    off_t offset = 0;
    while (offset < size) {
        const ssize_t n = ::sendfile(to, from, &offset, static_cast<size_t>(size - offset));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("sendfile");
        }
        if (n == 0)
            return Error::with_code(EIO, "sendfile: binary shrank while being copied");
    }
    return {};
}

Result<void> reexec_from_memfd(int self, char** argv)
{
    struct stat st {};
    if (::fstat(self, &st) < 0)
        return Error::from_errno("stat '/proc/self/exe'");
    auto memfd = make_memfd();
    if (!memfd)
        return std::move(memfd).error().wrap("seal runtime binary");
    if (auto r = copy_all(self, memfd->get(), st.st_size); !r)
        return std::move(r).error().wrap("seal runtime binary");
    if (::fcntl(memfd->get(), F_ADD_SEALS, required_seals) < 0)
        return Error::from_errno("seal runtime binary: F_ADD_SEALS");
    trace::phase("cli: binary copied into a sealed memfd, re-exec");
    ::fexecve(memfd->get(), argv, environ);
    return Error::from_errno("seal runtime binary: fexecve");
}

bool on_readonly_mount(int fd)
{
    struct statvfs vfs {};
    return ::fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

// Re-executes through a detached read-only bind mount of the binary; returns only when that
// could not be made (the caller falls back to the memfd copy). The mount is checked read-only
// before the exec, so the re-executed copy never loops back here.
void reexec_from_readonly_bind(int self, char** argv)
{
    Fd tree(static_cast<int>(
        ::syscall(SYS_open_tree, self, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)));
    if (!tree.valid())
        return;
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV;
    if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0 ||
        !on_readonly_mount(tree.get()))
        return;
    trace::phase("cli: binary bound read-only (detached), re-exec");
    ::syscall(SYS_execveat, tree.get(), "", argv, environ, AT_EMPTY_PATH);
}

} // namespace

bool running_protected()
{
    Fd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!self.valid())
        return false;
    const int seals = ::fcntl(self.get(), F_GET_SEALS); // EINVAL on anything but a memfd
    if (seals >= 0 && (seals & required_seals) == required_seals)
        return true;
    return on_readonly_mount(self.get());
}

Result<void> reexec_protected(char** argv)
{
    if (running_protected())
        return {};
    Fd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!self.valid())
        return Error::from_errno("open '/proc/self/exe'");
    reexec_from_readonly_bind(self.get(), argv);
    return reexec_from_memfd(self.get(), argv);
}

} // namespace berth::runtime
