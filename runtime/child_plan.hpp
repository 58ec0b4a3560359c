// runtime/child_plan.hpp — internal: everything the cloned child needs, as plain C data.
//
// Code between clone() and execve() may not allocate (the caller may have threads), so the
// parent resolves every name, path, flag and number first and lays them out here: C strings,
// NULL-terminated arrays, kernel structs. The storage behind the pointers is a PlanArena owned by
// the parent; the child, a copy of the parent's memory, reads it without locking anything.
#pragma once
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include "base/fd.hpp"
#include "base/result.hpp"
#include "runtime/runtime.hpp"

namespace berth::runtime {

struct SeccompProgram; // runtime/seccomp.hpp (compiled by the parent, loaded by the child)

// Where the child was when it failed; the parent turns it into "create container x: <step>".
// Only steps the child raises (step_name() must name each: its switch has no default).
enum class ChildStep : std::int32_t {
    None,
    JoinNamespace,
    Clone,
    UserIds,
    UnshareCgroup,
    Loopback,
    MountPropagation,
    BindRootfs,
    OpenRootfs,
    Mount,
    MountTarget,
    MountPropagate,
    Device,
    DevSymlink,
    Hostname,
    Domainname,
    CreateHook,
    PivotRoot,
    MaskPath,
    ReadonlyPath,
    ReadonlyRoot,
    Procfs,
    Sysctl,
    NullDevice,
    ProcMount,
    Console,
    Stdio,
    Setsid,
    Rlimit,
    NoNewPrivs,
    Seccomp,
    BoundingSet,
    KeepCaps,
    Setgroups,
    Setgid,
    Setuid,
    Chdir,
    CwdOutsideRoot,
    Capset,
    AmbientCaps,
    CloseFds,
    WaitStart,
    StartHook,
    Exec,
    Keyring,
    JoinCgroup,
    MapFds,
};
std::string_view step_name(ChildStep step);

// Messages on the SOCK_SEQPACKET sync socket, one struct per datagram.
enum class SyncType : std::int32_t {
    Pid,         // stage -> parent: a = host pid of the child, b = 1 if born in the v2 cgroup
    Failure,     // child/stage -> parent: a = step, b = errno, c = index (which mount, hook...)
    Go,          // parent -> child: id maps written, v2 cgroup joined (the child joins v1 itself)
    Hooks,       // child -> parent: mounts are ready, run prestart/createRuntime hooks now
    HooksDone,   // parent -> child
    Ready,       // child -> parent: set up, waiting for start
    Seccomp,     // child -> parent: the seccomp listener fd follows (SCM_RIGHTS datagram)
    SeccompDone, // parent -> child: the listener went to linux.seccomp.listenerPath
};
struct SyncMessage {
    SyncType type = SyncType::Failure;
    std::int32_t a = 0, b = 0, c = 0;
};

struct MountPlan {
    const char* source = nullptr; // host path for binds (absolute); fs source otherwise
    const char* target = nullptr; // relative to the rootfs, no leading '/'
    const char* fstype = nullptr; // nullptr for binds
    const char* data = nullptr;
    unsigned long flags = 0;                          // initial mount(2) flags (non-bind)
    std::uint64_t attr_set = 0, attr_clr = 0;         // MOUNT_ATTR_* for binds (mount_setattr)
    std::uint64_t rec_attr_set = 0, rec_attr_clr = 0; // the same with AT_RECURSIVE ("rro")
    bool bind = false, recursive = false;
    bool target_is_dir = true;
    bool self = false;    // no mount: set attr_set on the mount already at target (tmpfs -> ro)
    bool copy_up = false; // tmpcopyup: the covered directory's contents copied into the tmpfs
    bool proc_ok = false; // may land on procfs: "/proc" itself or an allow-listed /proc file
    unsigned long propagation[4] = {};
    int propagation_count = 0;
};

struct DevicePlan {
    const char* target = nullptr; // relative to the rootfs ("dev/null")
    const char* host = nullptr;   // bind source in a user namespace
    mode_t mode = 0;              // S_IFCHR|0666 ...
    dev_t dev = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    bool bind = false;
};

struct SymlinkPlan {
    const char* target = nullptr;   // link text ("/proc/self/fd")
    const char* linkpath = nullptr; // relative to the rootfs ("dev/fd")
};

struct SysctlPlan {
    const char* path = nullptr; // "/proc/sys/net/ipv4/ip_forward"
    const char* value = nullptr;
    std::size_t value_len = 0;
};

struct HookPlan {
    const char* path = nullptr;
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    int timeout_s = 0; // 0 = none
};

struct RlimitPlan {
    int resource = 0;
    struct rlimit limit {};
};

// The process attributes shared by the container's init and by exec'd processes.
struct ProcessPlan {
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* const* exec_candidates = nullptr; // args[0] resolved against the container PATH
    const char* cwd = "/";
    uid_t uid = 0;
    gid_t gid = 0;
    const gid_t* groups = nullptr;
    std::size_t group_count = 0;
    int umask = -1;
    const RlimitPlan* rlimits = nullptr;
    std::size_t rlimit_count = 0;
    bool has_oom_score_adj = false;
    int oom_score_adj = 0;
    bool no_new_privs = false;
    bool has_caps = false;
    __user_cap_header_struct cap_header{};
    __user_cap_data_struct cap_data[2]{};
    std::uint64_t bounding = 0, ambient = 0;
    int last_cap = 0;
    const SeccompProgram* seccomp = nullptr;
    // Set with seccomp by the parent: keeps child.cpp free of a link-time seccomp dependency.
    int (*load_seccomp)(const SeccompProgram&) noexcept = nullptr;
    // SCMP_ACT_NOTIFY rules and a parent that forwards the listener (create): the filter is
    // loaded before Ready and the fd sent on the sync socket. Otherwise the listener is closed.
    bool forward_listener = false;
    bool terminal = false;
    bool bind_console = false; // the container's init: the pty also goes on /dev/console
    int console_socket = -1;   // connected AF_UNIX socket to send the pty master to
    unsigned short rows = 0, cols = 0;
    int stdio[3] = {-1, -1, -1}; // dup2'd onto 0,1,2 when >= 0
    unsigned preserve_fds = 0;   // fds 3..3+preserve_fds-1 stay as they are
    const int* fd_map = nullptr; // fd_map[i] becomes 3 + preserve_fds + i (runtime/fds.hpp)
    std::size_t fd_map_count = 0;
    const HookPlan* start_hooks = nullptr;
    std::size_t start_hook_count = 0;
};

struct JoinPlan {
    int fd = -1;                // opened by the parent
    int type = 0;               // CLONE_NEW*
    const char* path = nullptr; // for the parent's error message
};

// The container's cgroup, joined without a move by pid (Cgroup::JoinFiles): the process is
// cloned into the v2 directory and writes "0" to each v1 tasks file itself. Opened by the
// parent; -1 / none when the host has no such hierarchy.
struct CgroupJoinPlan {
    int v2_fd = -1;
    const int* tasks_fds = nullptr;
    std::size_t tasks_count = 0;
};

// The container's init: namespaces, rootfs, then the process.
struct ChildPlan {
    int sync_fd = -1;
    // The stage closes every other fd >= 3 + process.preserve_fds first (sorted; fds.hpp).
    const int* keep_fds = nullptr;
    std::size_t keep_fd_count = 0;
    const JoinPlan* joins = nullptr;
    std::size_t join_count = 0;
    unsigned long clone_flags = 0; // new namespaces (cgroup excluded: unshared after the move)
    CgroupJoinPlan cgroup;
    bool new_user = false, new_mount = false, new_uts = false, new_net = false;
    bool unshare_cgroup = false;
    bool has_mount = false; // a mount namespace of its own, new or joined: the rootfs is built
    const char* rootfs = nullptr; // absolute host path
    unsigned long rootfs_propagation = 0;
    const MountPlan* mounts = nullptr;
    std::size_t mount_count = 0;
    const DevicePlan* devices = nullptr;
    std::size_t device_count = 0;
    const SymlinkPlan* symlinks = nullptr;
    std::size_t symlink_count = 0;
    const char* const* masked = nullptr; // absolute paths inside the container
    const char* const* readonly = nullptr;
    const SysctlPlan* sysctls = nullptr;
    std::size_t sysctl_count = 0;
    const char* hostname = nullptr;
    const char* domainname = nullptr;
    bool readonly_root = false, no_pivot = false;
    bool new_keyring = true; // a fresh anonymous session keyring, unless --no-new-keyring
    int fifo_fd = -1;
    const HookPlan* create_hooks = nullptr;
    std::size_t create_hook_count = 0;
    // prestart/createRuntime hooks to run in the parent: without any, the Hooks/HooksDone round
    // trip is skipped (two wake-ups fewer per create).
    bool parent_hooks = false;
    ProcessPlan process;
};

// A process exec'd into a running container: join all its namespaces through the init's pidfd
// (setns(pidfd, flags), one atomic step), then the shared process attributes.
struct ExecPlan {
    int sync_fd = -1;
    const int* keep_fds = nullptr; // as in ChildPlan
    std::size_t keep_fd_count = 0;
    int pidfd = -1;
    int ns_flags = 0; // CLONE_NEW* of the namespaces that differ from ours
    CgroupJoinPlan cgroup;
    ProcessPlan process;
};

// Owns the memory the plans point into. Strings live in a deque: growing it never moves them.
class PlanArena {
public:
    const char* keep(std::string text);
    char* const* keep_argv(const std::vector<std::string>& strings);
    template <class T>
    T* keep_array(const std::vector<T>& items)
    {
        auto& block = blocks_.emplace_back(items.size() * sizeof(T) + alignof(std::max_align_t));
        void* p = block.data();
        std::size_t space = block.size();
        p = std::align(alignof(T), sizeof(T) * items.size(), p, space);
        T* out = static_cast<T*>(p);
        for (std::size_t i = 0; i < items.size(); ++i)
            out[i] = items[i];
        return out;
    }

private:
    std::deque<std::string> strings_;
    std::deque<std::vector<char*>> arrays_;
    std::deque<std::vector<unsigned char>> blocks_;
};

// PATH lookup done ahead of time: "sh" with PATH=/usr/bin:/bin -> {"/usr/bin/sh", "/bin/sh"}.
// A name with '/' is used as is. Without PATH in env, runc's default PATH is used.
std::vector<std::string> exec_candidates(const std::string& arg0,
                                         const std::vector<std::string>& env);

// Refuses a uid, gid or additional gid above max_user_id (spec.hpp), naming the field.
Result<void> check_user_ids(const User& user);
// Process attributes into plan (argv, env, user, caps, rlimits, ...); seccomp is set apart.
// rootfs: the container's root on the host, where HOME is looked up in /etc/passwd when the
// process's env has none (as runc does; "/" when the user has no entry).
Result<void> build_process_plan(const Process& process, PlanArena& arena, ProcessPlan& plan,
                                const std::string& rootfs = {});
// Namespaces, rootfs, mounts, devices, masked/readonly paths, sysctls, hostname and the process.
// Opens the namespace paths to join (fds kept in `fds`).
// host and cgroup_path shape a "cgroup" mount on v1/hybrid hosts (nullptr: no cgroup mount).
// premade_net >= 0: the new network namespace the spec asks for, made ahead with lo up
// (NetnsMaker; the caller keeps the fd open): the stage joins it instead of CLONE_NEWNET.
Result<void> build_child_plan(const Spec& spec, const std::string& bundle,
                              const std::string& rootfs, const cgroups::Host* host,
                              const std::string& cgroup_path, PlanArena& arena,
                              std::vector<Fd>& fds, ChildPlan& plan, int premade_net = -1);
// The hooks of one kind as HookPlans.
std::vector<HookPlan> build_hook_plans(const std::vector<Hook>& hooks, PlanArena& arena);

// Child side (runtime/child.cpp). Async-signal-safe; never return.
[[noreturn]] void stage_main(const ChildPlan& plan) noexcept;
[[noreturn]] void child_main(const ChildPlan& plan) noexcept;
[[noreturn]] void exec_stage_main(const ExecPlan& plan) noexcept;
// Applies plan.process (user, caps, seccomp, cwd, fds) and execs; shared with exec.
[[noreturn]] void process_main(const ProcessPlan& plan, int sync_fd, int fifo_fd) noexcept;
// Reports a failure on sync_fd and _exit(127).
[[noreturn]] void child_fail(int sync_fd, ChildStep step, int index = 0) noexcept;

// Rootfs setup (runtime/rootfs.cpp), called by child_main; 0 or -1 with errno, *step/*index set.
int setup_rootfs(const ChildPlan& plan, ChildStep* step, int* index) noexcept;
int finish_rootfs(const ChildPlan& plan, ChildStep* step, int* index) noexcept;
// runtime/rootfs_proc.cpp, async-signal-safe. A verified procfs dirfd (a fresh detached
// instance, else /proc as we see it; fstatfs PROC_SUPER_MAGIC) or -1.
int open_procfs() noexcept;
// Writes s.value to s.path ("/proc/sys/...") beneath procfs: no symlinks, no mount crossing.
int write_sysctl(int procfs, const SysctlPlan& s) noexcept;
bool on_procfs(int fd) noexcept;
// Copies the contents of directory `from` into `to` (files, dirs, links, nodes; owners, modes).
int copy_tree(int from, int to, int depth = 0) noexcept;
// Runs one hook: fork, exec, state JSON on stdin, kill after the timeout. Async-signal-safe, so
// the child and the parent share it. 0: success; > 0: the failed wait status; -1: errno;
// -2: timed out (killed).
int run_hook_raw(const HookPlan& hook, const char* state_json, std::size_t len) noexcept;

} // namespace berth::runtime
