// runtime/exe_remap.cpp — protect_running_binary (see runtime.hpp): the CVE-2019-5736
// protection of sealed_exe.cpp without its second exec.
//
// What the re-exec buys is that /proc/<pid>/exe of every process we clone (the stage, the
// container's init until it execs) is a file nothing can write: the binary seen through a
// detached read-only bind mount of itself. The exec costs about 0.6 ms of CPU per create/run/
// exec here (the kernel's exec, the old image torn down, start-up again: docs/BENCHMARKS.md,
// "Start time", round start-2). The same end state is reached in place:
//   1. the read-only detached bind of the binary is made as sealed_exe.cpp makes it;
//   2. every mapping of the binary is moved onto that file: the segments the program never
//      writes (text, read-only data) are mapped again from it at the same offsets (the same
//      inode, so the same page-cache pages and the same bytes), the writable segments (data,
//      and the RELRO part, written by relocation then made read-only) become anonymous memory
//      holding the same bytes; no mapping refers to the writable path any more;
//   3. prctl(PR_SET_MM, PR_SET_MM_MAP) with exe_fd points /proc/self/exe at the read-only file
//      (the kernel allows it only once no mapping of the old file is left; set_exe_file);
//   4. the tree fd is closed: the mount is dissolved as the exec would have dissolved it; the
//      mappings and the exe link keep the file, on a mount that cannot be made writable again.
// Step 2 replaces the memory the running code lives in, so it uses no library call: raw
// system calls and a byte copy in inline assembly (a libc memcpy is reached through the GOT,
// which is being replaced), with every signal blocked. Any check that fails before step 2
// leaves the process untouched and the caller re-executes as before; a failure during step 2
// cannot be undone and aborts. Sanitizer builds keep the re-exec (their runtimes map and watch
// memory of their own).
#include "runtime/runtime.hpp"
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include "base/fd.hpp"
#include "base/files.hpp"
#include "base/strings.hpp"
#include "base/trace.hpp"

namespace berth::runtime {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool remap_supported = false;
#elif defined(__x86_64__)
constexpr bool remap_supported = true;
#else
constexpr bool remap_supported = false;
#endif

struct Vma {
    std::uintptr_t start = 0, end = 0;
    std::uint64_t offset = 0;
    int prot = 0;
    bool copy = false; // inside a writable segment: becomes anonymous memory with its bytes
};
constexpr std::size_t max_vmas = 16;

// Raw system calls for step 2: no libc function between the first and the last mapping change.
#if defined(__x86_64__)
long raw6(long n, long a, long b, long c, long d, long e, long f) noexcept
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

void raw_copy(void* to, const void* from, std::size_t n) noexcept
{
    __asm__ volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(n) : : "memory");
}
#else
long raw6(long, long, long, long, long, long, long) noexcept
{
    return -ENOSYS;
}
void raw_copy(void*, const void*, std::size_t) noexcept
{
}
#endif

bool raw_failed(long r) noexcept
{
    return r < 0 && r > -4096;
}

// The address ranges of the binary's writable PT_LOAD segments (data, .got, RELRO): the main
// program is dl_iterate_phdr's first entry (a static-pie has no PT_PHDR to find its bias by).
struct Writable {
    std::uintptr_t ranges[4][2] = {};
    std::size_t count = 0;
};

int collect_writable(dl_phdr_info* info, std::size_t, void* data) noexcept
{
    auto* out = static_cast<Writable*>(data);
    for (std::size_t i = 0; i < info->dlpi_phnum && out->count < 4; ++i) {
        const auto& ph = info->dlpi_phdr[i];
        if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W)) {
            out->ranges[out->count][0] = info->dlpi_addr + ph.p_vaddr;
            out->ranges[out->count][1] = info->dlpi_addr + ph.p_vaddr + ph.p_memsz;
            ++out->count;
        }
    }
    return 1; // the main program only
}

// The binary's mappings, from /proc/self/maps (matched by device and inode); 0 on anything
// unexpected (too many, unreadable), which makes the caller re-execute instead.
std::size_t binary_mappings(const struct stat& exe, Vma* out, std::size_t max)
{
    auto maps = read_file("/proc/self/maps", 1 << 20);
    if (!maps)
        return 0;
    Writable writable;
    (void)::dl_iterate_phdr(collect_writable, &writable);
    if (writable.count == 0)
        return 0;
    std::size_t n = 0;
    std::size_t copies = 0;
    std::size_t at = 0;
    while (at < maps->size()) {
        auto eol = maps->find('\n', at);
        if (eol == std::string::npos)
            eol = maps->size();
        const std::string line = maps->substr(at, eol - at);
        at = eol + 1;
        // "start-end perms offset major:minor inode [path]", numbers in hex but the inode.
        const char* p = line.c_str();
        char* next = nullptr;
        const unsigned long start = std::strtoul(p, &next, 16);
        const unsigned long end = *next == '-' ? std::strtoul(next + 1, &next, 16) : 0;
        if (*next != ' ' || std::strlen(next) < 6)
            return 0;
        const char* perms = next + 1;
        const unsigned long offset = std::strtoul(perms + 5, &next, 16);
        const auto major = static_cast<unsigned>(std::strtoul(next, &next, 16));
        const auto minor =
            static_cast<unsigned>(*next == ':' ? std::strtoul(next + 1, &next, 16) : 0);
        const unsigned long inode = std::strtoul(next, &next, 10);
        if (end <= start || perms[4] != ' ')
            return 0;
        if (inode != exe.st_ino || makedev(major, minor) != exe.st_dev)
            continue;
        if (n == max || perms[3] != 'p')
            return 0;
        Vma v;
        v.start = start;
        v.end = end;
        v.offset = offset;
        v.prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                 (perms[2] == 'x' ? PROT_EXEC : 0);
        for (std::size_t w = 0; w < writable.count; ++w)
            if (v.start < writable.ranges[w][1] && writable.ranges[w][0] < v.end)
                v.copy = true;
        if (v.copy && !(v.prot & PROT_READ))
            return 0;
        // A writable mapping that the program headers did not name (a load bias reported
        // wrongly, say) would be mapped again from the file, losing its relocations: refuse.
        if ((v.prot & PROT_WRITE) && !v.copy)
            return 0;
        copies += v.copy ? 1 : 0;
        out[n++] = v;
    }
    return copies == 0 ? 0 : n;
}

// Step 2 (see the top): returns false if the first change failed before it touched the
// mapping (nothing changed yet); aborts on any other failure (the process is half moved and
// cannot go on).
bool move_mappings(const Vma* vmas, std::size_t count, int ro) noexcept
{
    for (std::size_t i = 0; i < count; ++i) {
        const Vma& v = vmas[i];
        const auto len = static_cast<long>(v.end - v.start);
        const auto addr = static_cast<long>(v.start);
        long r;
        bool untouched = true; // the mapping at addr is still the original one
        if (v.copy) {
            const long tmp =
                raw6(SYS_mmap, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (raw_failed(tmp)) {
                r = tmp;
            } else {
                untouched = false; // a failed MAP_FIXED may have left a hole
                // NOLINTNEXTLINE(performance-no-int-to-ptr): addresses from the mappings
                raw_copy(reinterpret_cast<void*>(tmp), reinterpret_cast<void*>(addr),
                         static_cast<std::size_t>(len));
                r = raw6(SYS_mmap, addr, len, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
                if (!raw_failed(r)) {
                    // NOLINTNEXTLINE(performance-no-int-to-ptr): addresses from the mappings
                    raw_copy(reinterpret_cast<void*>(addr), reinterpret_cast<void*>(tmp),
                             static_cast<std::size_t>(len));
                    r = raw6(SYS_mprotect, addr, len, v.prot, 0, 0, 0);
                }
                (void)raw6(SYS_munmap, tmp, len, 0, 0, 0, 0);
            }
        } else {
            r = raw6(SYS_mmap, addr, len, v.prot, MAP_PRIVATE | MAP_FIXED, ro,
                     static_cast<long>(v.offset));
            // Errors do_mmap() returns before it unmaps anything; any other (ENOMEM above all)
            // may come after the old range was unmapped (kernels before 6.12), leaving a hole.
            untouched = r == -EINVAL || r == -EACCES || r == -EPERM || r == -ENODEV ||
                        r == -EOVERFLOW || r == -EBADF;
        }
        if (raw_failed(r)) {
            if (i == 0 && untouched)
                return false;
            static const char msg[] = "berth-runtime: moving the binary's mappings failed\n";
            (void)raw6(SYS_write, 2, reinterpret_cast<long>(msg), sizeof msg - 1, 0, 0, 0);
            (void)raw6(SYS_exit_group, 127, 0, 0, 0, 0, 0);
        }
    }
    return true;
}

// PR_SET_MM_EXE_FILE needs CAP_SYS_RESOURCE, which this kind of host leaves out of the bounding
// set; PR_SET_MM_MAP with exe_fd needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN instead (CRIU's
// path). It sets the whole map, so the kernel's current values are passed back unchanged
// (/proc/self/stat, fields 26-28 and 45-51; the break from brk(0)).
bool set_exe_file(int ro)
{
    auto stat = read_file("/proc/self/stat", 4096);
    if (!stat)
        return false;
    const auto comm_end = stat->rfind(')');
    if (comm_end == std::string::npos)
        return false;
    unsigned long long field[53] = {};
    const char* p = stat->c_str() + comm_end + 2; // field 3 (state) onwards
    for (int i = 3; i <= 52 && *p; ++i) {
        char* next = nullptr;
        field[i] = i == 3 ? 0 : std::strtoull(p, &next, 10);
        if (i == 3)
            next = const_cast<char*>(std::strchr(p, ' '));
        if (!next)
            return false;
        p = *next == ' ' ? next + 1 : next;
    }
    prctl_mm_map map{};
    map.start_code = field[26];
    map.end_code = field[27];
    map.start_stack = field[28];
    map.start_data = field[45];
    map.end_data = field[46];
    map.start_brk = field[47];
    map.arg_start = field[48];
    map.arg_end = field[49];
    map.env_start = field[50];
    map.env_end = field[51];
    map.brk = static_cast<std::uint64_t>(::syscall(SYS_brk, 0));
    map.exe_fd = static_cast<std::uint32_t>(ro);
    return ::prctl(PR_SET_MM, PR_SET_MM_MAP, &map, sizeof map, 0) == 0;
}

bool same_file(int a, int b)
{
    struct stat sa {
    }, sb{};
    return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

bool readonly(int fd)
{
    struct statvfs vfs {};
    return ::fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

// Steps 1-4; false (nothing changed, or only the mappings moved) makes the caller re-execute.
bool protect_in_place()
{
    Fd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    struct stat exe {};
    if (!self.valid() || ::fstat(self.get(), &exe) < 0 || !S_ISREG(exe.st_mode))
        return false;
    Fd tree(static_cast<int>(::syscall(SYS_open_tree, self.get(), "",
                                       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)));
    if (!tree.valid())
        return false;
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV;
    if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
        return false;
    Fd ro(::open(cat("/proc/self/fd/", tree.get()).c_str(), O_RDONLY | O_CLOEXEC));
    if (!ro.valid() || !readonly(ro.get()) || !same_file(ro.get(), self.get()))
        return false;
    Vma vmas[max_vmas];
    const std::size_t count = binary_mappings(exe, vmas, max_vmas);
    if (count == 0)
        return false;
    sigset_t all, old;
    ::sigfillset(&all);
    if (::sigprocmask(SIG_SETMASK, &all, &old) < 0)
        return false;
    const bool moved = move_mappings(vmas, count, ro.get());
    (void)::sigprocmask(SIG_SETMASK, &old, nullptr);
    if (!moved)
        return false;
    if (!set_exe_file(ro.get()))
        return false;
    trace::phase("cli: binary's mappings moved onto a read-only bind of it");
    return running_protected();
}

} // namespace

Result<void> protect_running_binary(char** argv)
{
    if (running_protected())
        return {};
    if (remap_supported && protect_in_place())
        return {};
    return reexec_protected(argv);
}

} // namespace berth::runtime
