// runtime/exec.cpp — `exec`: another process in a running container's namespaces, cgroup and
// security profile. A stage process joins every namespace of the init at once through its
// pidfd (setns(pidfd, flags), the user namespace first by the kernel's own ordering), then
// clones the process so the pid namespace applies; the parent moves it into the container's
// cgroup before letting it go. The seccomp filter is recompiled from the stored config.
//
// The forked helper is visible in the container from its clone into the pid namespace until its
// execve, and runs as the container's user with the container's capabilities once it dropped
// them: it is made non-dumpable as its first act (so no container process can ptrace it or open
// its /proc/<pid>/fd, mem or exe), and holds none of the caller's other fds.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sched.h>
#include <optional>
#include "base/files.hpp"
#include "runtime/create.hpp"
#include "runtime/fds.hpp"
#include "runtime/process.hpp"
#include "runtime/seccomp.hpp"
#include "runtime/spawn.hpp"
#include "runtime/state_store.hpp"

namespace berth::runtime {
namespace {

// The namespaces of pid that differ from ours: joining the same one again is an error for
// some types (user), and pointless for all.
int differing_namespaces(pid_t pid)
{
    static const std::pair<const char*, int> types[] = {
        {"user", CLONE_NEWUSER},    {"mnt", CLONE_NEWNS},  {"pid", CLONE_NEWPID},
        {"net", CLONE_NEWNET},      {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
        {"cgroup", CLONE_NEWCGROUP}};
    int flags = 0;
    for (const auto& [name, flag] : types) {
        struct stat ours {
        }, theirs{};
        if (::stat(cat("/proc/self/ns/", name).c_str(), &ours) < 0 ||
            ::stat(cat("/proc/", pid, "/ns/", name).c_str(), &theirs) < 0)
            continue;
        if (ours.st_ino != theirs.st_ino || ours.st_dev != theirs.st_dev)
            flags |= flag;
    }
    return flags;
}

struct ExecPrepared {
    PlanArena arena;
    ExecPlan plan;
    std::optional<SeccompProgram> seccomp;
    std::optional<Seccomp> seccomp_spec; // its listenerPath gets the listener, as for create
    std::string state_json;              // the container's state, sent with the listener
    Fd pidfd, console;
    cgroups::Cgroup* cgroup = nullptr;
    cgroups::Cgroup::JoinFiles join; // plan.cgroup points at these
    std::vector<int> tasks_fds;
    std::string program, cwd;          // named when the process fails to start
    std::vector<int> fd_map, keep_fds; // what the plan's pointers point at
};

Result<void> prepare_exec(ExecPrepared& p, const Options& options, const store::Record& record,
                          const ExecOptions& eo)
{
    auto spec = store::load_config(options, record.id);
    if (!spec)
        return std::move(spec).error();
    if (auto r = build_process_plan(eo.process, p.arena, p.plan.process, record.rootfs); !r)
        return std::move(r).error().wrap("process");
    p.program = eo.process.args.front();
    p.cwd = eo.process.cwd;
    if (spec->linux.seccomp) {
        auto program = compile_seccomp(*spec->linux.seccomp);
        if (!program)
            return std::move(program).error();
        p.seccomp = std::move(*program);
        p.plan.process.seccomp = &*p.seccomp;
        p.plan.process.load_seccomp = &load_seccomp;
        p.plan.process.forward_listener = p.seccomp->needs_listener;
        if (p.seccomp->needs_listener) {
            p.seccomp_spec = std::move(spec->linux.seccomp);
            p.state_json = state_to_json(store::to_state(record, Status::Running));
        }
    }
    if (eo.process.terminal) {
        if (eo.console_socket.empty())
            return Error::invalid("process.terminal is set but no console socket was given");
        auto socket = connect_console(eo.console_socket);
        if (!socket)
            return std::move(socket).error();
        p.console = std::move(*socket);
        p.plan.process.console_socket = p.console.get();
    }
    p.plan.process.stdio[0] = eo.stdin_fd;
    p.plan.process.stdio[1] = eo.stdout_fd;
    p.plan.process.stdio[2] = eo.stderr_fd;
    p.plan.process.preserve_fds = eo.preserve_fds;
    p.fd_map = eo.pass_fds;
    p.plan.process.fd_map = p.fd_map.data();
    p.plan.process.fd_map_count = p.fd_map.size();
    auto pidfd = store::open_init(record);
    if (!pidfd) // it died since we looked
        return pidfd.error().code == ESRCH ? store::wrong_state(Status::Stopped, "running")
                                           : std::move(pidfd).error();
    p.pidfd = std::move(*pidfd);
    p.plan.pidfd = p.pidfd.get();
    p.plan.ns_flags = differing_namespaces(record.pid);
    return {};
}

// The process loads its filter after Go and, when the profile has notify rules, sends the
// listener first: it goes to linux.seccomp.listenerPath with this process's pid, as runc does.
Result<void> forward_exec_listener(const ExecPrepared& p, int sync_fd, pid_t pid)
{
    auto m = receive_sync(sync_fd);
    if (!m)
        return std::move(m).error();
    if (m->type == SyncType::Failure)
        return describe_process_failure(*m, p.program, p.cwd);
    if (m->type != SyncType::Seccomp)
        return Error::with_code(EPROTO, "unexpected message from the exec'd process");
    return forward_seccomp_listener(sync_fd, *p.seccomp_spec, pid, p.state_json);
}

Result<Child> spawn_exec(ExecPrepared& p, cgroups::Cgroup& cgroup, Fd& sync)
{
    std::vector<int> keep(p.fd_map);
    keep.insert(keep.end(), {p.pidfd.get(), p.console.get()});
    keep.insert(keep.end(), std::begin(p.plan.process.stdio), std::end(p.plan.process.stdio));
    keep.push_back(p.plan.cgroup.v2_fd); // the cgroup join files (CgroupJoinPlan)
    keep.insert(keep.end(), p.tasks_fds.begin(), p.tasks_fds.end());
    bool born_in_cgroup = false;
    auto child = spawn_stage(
        p.plan, std::move(keep), p.keep_fds, sync,
        [&](const SyncMessage& m) { return describe_process_failure(m, p.program, p.cwd); },
        &born_in_cgroup);
    if (!child)
        return child;
    // Born in the v2 cgroup unless the kernel refused; the process joins v1 itself after Go.
    if (!born_in_cgroup)
        if (auto r = cgroup.add_v2(child->pid()); !r)
            return std::move(r).error().wrap("join cgroup");
    if (auto r = send_sync(sync.get(), SyncType::Go); !r)
        return std::move(r).error();
    if (p.plan.process.forward_listener)
        if (auto r = forward_exec_listener(p, sync.get(), child->pid()); !r)
            return std::move(r).error();
    return child;
}

// Detached: wait until the process exec'd (EOF on sync) or failed.
Result<void> wait_exec(Fd& sync, const ExecPrepared& p)
{
    auto m = receive_sync(sync.get());
    if (m && m->type == SyncType::Failure)
        return describe_process_failure(*m, p.program, p.cwd);
    if (!m && m.error().code != ECHILD)
        return std::move(m).error();
    return {};
}

// keep: detached, the caller takes the child (a ProcessHandle) instead of letting it go.
Result<int> exec_process(const Options& options, const std::string& id, const ExecOptions& eo,
                         Child* keep = nullptr)
{
    // First, before we open any fd of our own: one could take a free number in the preserved
    // range and reach the container.
    if (auto r = check_fd_mapping(eo.preserve_fds, eo.pass_fds); !r)
        return std::move(r).error();
    auto record = store::load(options, id);
    if (!record)
        return std::move(record).error();
    const auto status = store::observe_status(options, *record);
    // Not into a created container: its init still runs the runtime's own image (forked, not
    // exec'd) until start, and must stay out of reach of container processes (CVE-2019-5736).
    if (status != Status::Running)
        return store::wrong_state(status, "running");
    auto cgroup = cgroups::Cgroup::open(record->cgroup_path, record->cgroup);
    if (!cgroup)
        return std::move(cgroup).error().wrap(cat("cgroup ", berth::quoted(record->cgroup_path)));
    auto p = std::make_unique<ExecPrepared>();
    if (auto r = prepare_exec(*p, options, *record, eo); !r)
        return std::move(r).error();
    auto join = cgroup->open_join_files();
    if (!join)
        return std::move(join).error().wrap("join cgroup");
    p->join = std::move(*join);
    p->plan.cgroup.v2_fd = p->join.v2_dir.valid() ? p->join.v2_dir.get() : -1;
    for (const auto& tasks : p->join.v1_tasks)
        p->tasks_fds.push_back(tasks.get());
    p->plan.cgroup.tasks_fds = p->tasks_fds.data();
    p->plan.cgroup.tasks_count = p->tasks_fds.size();
    Fd sync;
    auto child = spawn_exec(*p, *cgroup, sync);
    if (!child)
        return std::move(child).error();
    if (!eo.pid_file.empty())
        if (auto r = write_file_atomic(eo.pid_file, std::to_string(child->pid()), 0644); !r)
            return std::move(r).error().wrap("pid file");
    if (eo.detach) {
        if (auto r = wait_exec(sync, *p); !r)
            return std::move(r).error();
        if (keep)
            *keep = std::move(*child);
        else
            child->release();
        return 0;
    }
    return wait_foreground(*child, sync, p->program, eo.signal_fd, p->cwd);
}

} // namespace

Result<Child> exec_child(const Options& options, const std::string& id, ExecOptions eo)
{
    eo.detach = true;
    Child child;
    if (auto r = exec_process(options, id, eo, &child); !r)
        return std::move(r).error().wrap(cat("exec in container ", id));
    return child;
}

Result<int> exec(const Options& options, const std::string& id, const ExecOptions& eo)
{
    auto r = exec_process(options, id, eo);
    if (!r)
        return std::move(r).error().wrap(cat("exec in container ", id));
    return r;
}

} // namespace berth::runtime
