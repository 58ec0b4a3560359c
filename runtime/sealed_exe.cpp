// runtime/sealed_exe.cpp — reexec_from_sealed_copy (see runtime.hpp): the CVE-2019-5736 class.
// The attack: a container binary whose interpreter is "#!/proc/self/exe" makes a process we
// exec into the container re-execute *our* binary inside it, which then reopens /proc/self/exe
// for writing once we exit and overwrites the runtime on the host. Running from a sealed memfd
// leaves nothing on the host to overwrite.
#include "runtime/runtime.hpp"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
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

} // namespace

bool running_from_sealed_copy()
{
    Fd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!self.valid())
        return false;
    const int seals = ::fcntl(self.get(), F_GET_SEALS); // EINVAL on anything but a memfd
    return seals >= 0 && (seals & required_seals) == required_seals;
}

Result<void> reexec_from_sealed_copy(char** argv)
{
    if (running_from_sealed_copy())
        return {};
    Fd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!self.valid())
        return Error::from_errno("open '/proc/self/exe'");
    struct stat st {};
    if (::fstat(self.get(), &st) < 0)
        return Error::from_errno("stat '/proc/self/exe'");
    auto memfd = make_memfd();
    if (!memfd)
        return std::move(memfd).error().wrap("seal runtime binary");
    if (auto r = copy_all(self.get(), memfd->get(), st.st_size); !r)
        return std::move(r).error().wrap("seal runtime binary");
    if (::fcntl(memfd->get(), F_ADD_SEALS, required_seals) < 0)
        return Error::from_errno("seal runtime binary: F_ADD_SEALS");
    trace::phase("cli: binary copied and sealed, re-exec");
    ::fexecve(memfd->get(), argv, environ);
    return Error::from_errno("seal runtime binary: fexecve");
}

} // namespace berth::runtime
