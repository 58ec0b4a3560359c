// runtime/seccomp_default.cpp — berth's built-in seccomp profile. Same intent as Docker's
// default profile (moby profiles/seccomp/default.json): deny with EPERM by default, allow the
// syscalls ordinary programs use, allow the privileged ones only when the bounding set holds
// the capability that guards them, and block namespace creation through clone() without
// CAP_SYS_ADMIN. Every name here must be known to libseccomp (the seccomp unit test compiles
// the profile), because compile_seccomp() refuses unknown names.
#include <linux/capability.h>
#include <seccomp.h>
#include <algorithm>
#include <set>
#include <vector>
#include "runtime/spec.hpp"

namespace berth::runtime {

namespace {

using Names = std::vector<std::string_view>;

// What any process needs: files, memory, signals, time, sockets, ids, IPC, async I/O. Names that
// exist only on some architectures are fine: libseccomp skips them where they do not exist.
// clang-format off
const Names always_allowed = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
    "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
    "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
    "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
    "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
    "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
    "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom",
    "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list",
    "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday",
    "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
    "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit", "io_uring_enter",
    "io_uring_register", "io_uring_setup", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link",
    "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr",
    "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret",
    "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
    "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
    "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
    "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
    "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
    "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
    "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
    "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget",
    "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
    "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
    "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
    "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
    "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
    "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack",
    "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice",
    "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
    "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice",
    "wait4", "waitid", "waitpid", "write", "writev",
    // Safe since Linux 4.8, where seccomp runs after ptrace and cannot be bypassed by it.
    "process_vm_readv", "process_vm_writev", "ptrace",
};
// clang-format on

#if defined(__x86_64__) || defined(__i386__)
const Names arch_allowed = {"arch_prctl", "modify_ldt"};
#elif defined(__aarch64__) || defined(__arm__)
const Names arch_allowed = {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
                            "breakpoint",       "cacheflush",          "set_tls"};
#elif defined(__s390x__)
const Names arch_allowed = {"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"};
#elif defined(__riscv)
const Names arch_allowed = {"riscv_flush_icache"};
#else
const Names arch_allowed = {};
#endif

struct CapabilityGroup {
    int capability;
    Names names;
};
// Syscalls whose only guard in the kernel is a capability: allowed when the container has it.
const CapabilityGroup capability_groups[] = {
    {CAP_DAC_READ_SEARCH, {"open_by_handle_at"}},
    {CAP_SYS_ADMIN, {"bpf",           "clone",         "clone3",      "fanotify_init",   "fsconfig",
                     "fsmount",       "fsopen",        "fspick",      "lookup_dcookie",  "mount",
                     "mount_setattr", "move_mount",    "open_tree",   "perf_event_open", "quotactl",
                     "quotactl_fd",   "setdomainname", "sethostname", "setns",           "syslog",
                     "umount",        "umount2",       "unshare"}},
    {CAP_SYS_BOOT, {"reboot"}},
    {CAP_SYS_CHROOT, {"chroot"}},
    {CAP_SYS_MODULE, {"delete_module", "init_module", "finit_module"}},
    {CAP_SYS_PACCT, {"acct"}},
    {CAP_SYS_PTRACE, {"kcmp", "pidfd_getfd", "process_madvise"}},
    {CAP_SYS_RAWIO, {"iopl", "ioperm"}},
    {CAP_SYS_TIME, {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
    {CAP_SYS_TTY_CONFIG, {"vhangup"}},
    {CAP_SYS_NICE, {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
    {CAP_SYSLOG, {"syslog"}},
    {CAP_BPF, {"bpf"}},
    {CAP_PERFMON, {"perf_event_open"}},
};

constexpr std::uint64_t clone_namespace_flags = 0x7E020000; // CLONE_NEWNS|NEWCGROUP|...|NEWNET
constexpr std::uint64_t af_vsock = 40;

SeccompRule allow_when_arg(std::string name, unsigned index, SeccompOp op, std::uint64_t value)
{
    SeccompRule rule;
    rule.names = {std::move(name)};
    rule.action = SeccompAction::Allow;
    rule.args = {SeccompArg{index, value, 0, op}};
    return rule;
}

std::vector<std::uint32_t> native_architectures()
{
#if defined(__x86_64__)
    return {SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32};
#elif defined(__aarch64__)
    return {SCMP_ARCH_AARCH64, SCMP_ARCH_ARM};
#else
    return {}; // the native architecture only (compile_seccomp always adds it)
#endif
}

// Rules with argument filters: personality() only with the harmless personas, socket() for
// anything but vsock, clone() without namespace flags unless CAP_SYS_ADMIN.
void add_argument_rules(std::vector<SeccompRule>& rules, bool sys_admin)
{
    for (const std::uint64_t persona : {0x0ull, 0x8ull, 0x20000ull, 0x20008ull, 0xffffffffull})
        rules.push_back(allow_when_arg("personality", 0, SeccompOp::Equal, persona));
    rules.push_back(allow_when_arg("socket", 0, SeccompOp::NotEqual, af_vsock));
    if (sys_admin)
        return;
#if defined(__s390x__)
    const unsigned clone_flags_index = 1; // s390 passes the stack first
#else
    const unsigned clone_flags_index = 0;
#endif
    auto clone =
        allow_when_arg("clone", clone_flags_index, SeccompOp::MaskedEqual, clone_namespace_flags);
    clone.args[0].value_two = 0; // (flags & namespace flags) == 0
    rules.push_back(std::move(clone));
    // clone3 passes its flags in memory seccomp cannot read: ENOSYS makes libc fall back to
    // clone(), which the rule above checks.
    SeccompRule clone3;
    clone3.names = {"clone3"};
    clone3.action = SeccompAction::Errno;
    clone3.errno_ret = 38; // ENOSYS
    rules.push_back(std::move(clone3));
}

} // namespace

Seccomp default_seccomp_profile(const Capabilities& capabilities)
{
    const auto has = [&](int cap) {
        return std::find(capabilities.bounding.begin(), capabilities.bounding.end(), cap) !=
               capabilities.bounding.end();
    };
    std::set<std::string_view> allowed(always_allowed.begin(), always_allowed.end());
    allowed.insert(arch_allowed.begin(), arch_allowed.end());
    for (const auto& group : capability_groups)
        if (has(group.capability))
            allowed.insert(group.names.begin(), group.names.end());

    Seccomp profile;
    profile.default_action = SeccompAction::Errno;
    profile.default_errno_ret = 1; // EPERM
    profile.architectures = native_architectures();
    SeccompRule allow;
    allow.action = SeccompAction::Allow;
    allow.names.assign(allowed.begin(), allowed.end());
    profile.syscalls.push_back(std::move(allow));
    add_argument_rules(profile.syscalls, has(CAP_SYS_ADMIN));
    return profile;
}

} // namespace berth::runtime
