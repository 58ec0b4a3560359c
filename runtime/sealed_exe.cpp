// runtime/sealed_exe.cpp — reexec_protected (see runtime.hpp): the CVE-2019-5736 class.
// The attack: a container binary whose interpreter is "#!/proc/self/exe" makes a process we
// exec into the container re-execute *our* binary inside it, which then reopens /proc/self/exe
// for writing once we exit and overwrites the runtime on the host. Running from a read-only
// mount of the binary, or from a sealed memfd, leaves nothing on the host writable.
//
// Start-up cost decided the choice (docs/BENCHMARKS.md, "Start time"): a binary already on a
// read-only mount (a read-only /usr, or a read-only bind mount of the installed binary onto
// itself) is not re-executed at all. Otherwise the binary is copied into a sealed memfd (about
// 0.5 ms per MB here) and re-executed; the binary is linked with static libstdc++, libseccomp
// and libcap so that each of its two starts skips most of the dynamic loader's work. runc 1.2's
// alternative, a detached read-only overlayfs of the binary's directory (no copy), was measured
// slower here: 5-10 ms per start against about 1 ms for the copy (the detached mount's set-up
// and teardown; its syscalls alone took well under 1 ms under strace).
#include "runtime/runtime.hpp"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
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

} // namespace

bool running_protected()
{
    Fd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!self.valid())
        return false;
    const int seals = ::fcntl(self.get(), F_GET_SEALS); // EINVAL on anything but a memfd
    if (seals >= 0 && (seals & required_seals) == required_seals)
        return true;
    struct statvfs vfs {};
    return ::fstatvfs(self.get(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

Result<void> reexec_protected(char** argv)
{
    if (running_protected())
        return {};
    Fd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!self.valid())
        return Error::from_errno("open '/proc/self/exe'");
    return reexec_from_memfd(self.get(), argv);
}

} // namespace berth::runtime
