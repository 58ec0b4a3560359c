// runtime/lifecycle.cpp — the verbs on an existing container: state, list, kill, remove,
// pause, resume, processes, stats, recover. Status always comes from the kernel, never from
// what the state file last said (store::observe_status).
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <filesystem>
#include "base/files.hpp"
#include "runtime/hooks.hpp"
#include "runtime/state_store.hpp"

namespace berth::runtime {
namespace {

template <class T>
Result<T> wrap(Result<T> r, std::string_view verb, const std::string& id)
{
    if (!r)
        return std::move(r).error().wrap(cat(verb, " container ", id));
    return r;
}

// A pidfd for the record's init, checked against the recorded start time after opening it:
// a signal through this fd can never reach a process that reused the pid.
Result<Fd> open_init(const store::Record& record)
{
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, record.pid, 0));
    if (fd < 0)
        return Error::with_code(ESRCH, "container init ", record.pid, " is gone");
    Fd pidfd(fd);
    auto start = store::process_start_time(record.pid);
    if (!start || *start != record.start_time)
        return Error::with_code(ESRCH, "container init ", record.pid, " is gone");
    return pidfd;
}

// Waits up to timeout_ms for the process behind pidfd to exit.
bool wait_exit(const Fd& pidfd, int timeout_ms)
{
    pollfd p{pidfd.get(), POLLIN, 0};
    int r;
    do
        r = ::poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    return r > 0;
}

Result<cgroups::Cgroup> open_cgroup(const store::Record& record)
{
    auto cgroup = cgroups::Cgroup::open(record.cgroup_path);
    if (!cgroup)
        return std::move(cgroup).error().wrap(cat("cgroup ", berth::quoted(record.cgroup_path)));
    return cgroup;
}

Result<void> require_running(const Options& options, const store::Record& record)
{
    const auto status = store::observe_status(options, record);
    if (status == Status::Stopped)
        return Error::with_code(ESRCH, "container is not running");
    return {};
}

Result<void> kill_container(const Options& options, const std::string& id, int sig, bool all)
{
    auto record = store::load(options, id);
    if (!record)
        return std::move(record).error();
    if (auto r = require_running(options, *record); !r)
        return r;
    if (all) {
        auto cgroup = open_cgroup(*record);
        if (!cgroup)
            return std::move(cgroup).error();
        auto pids = cgroup->pids();
        if (!pids)
            return std::move(pids).error();
        for (const pid_t pid : *pids)
            if (::kill(pid, sig) < 0 && errno != ESRCH)
                return Error::from_errno("kill ", pid);
        return {};
    }
    auto pidfd = open_init(*record);
    if (!pidfd)
        return std::move(pidfd).error();
    if (::syscall(SYS_pidfd_send_signal, pidfd->get(), sig, nullptr, 0) < 0)
        return Error::from_errno("signal ", sig, " to container init ", record->pid);
    return {};
}

// Stops everything still running: SIGKILL to the init and to the cgroup, then waits.
void stop_processes(const store::Record& record, cgroups::Cgroup* cgroup)
{
    auto pidfd = open_init(record);
    if (pidfd)
        (void)::syscall(SYS_pidfd_send_signal, pidfd->get(), SIGKILL, nullptr, 0);
    if (cgroup) {
        (void)cgroup->kill();
        (void)cgroup->thaw(); // a frozen v1 task only dies once thawed
    }
    if (pidfd)
        (void)wait_exit(*pidfd, 10000);
}

// What a create that died midway left: no (or a broken) state.json. The config copy, if
// written, still names the cgroup.
Result<void> remove_partial(const Options& options, const std::string& id)
{
    auto bytes = read_file(store::config_copy_path(options, id), max_spec_bytes);
    if (bytes) {
        if (auto spec = parse_spec(*bytes)) {
            const auto& p = spec->linux.cgroups_path;
            const auto path = p.empty() ? "/berth/" + id : p.front() == '/' ? p : "/berth/" + p;
            if (auto cgroup = cgroups::Cgroup::open(path))
                if (auto r = cgroup->destroy(); !r)
                    return std::move(r).error();
        }
    }
    std::error_code ec;
    std::filesystem::remove_all(store::container_dir(options, id), ec);
    if (ec)
        return Error::with_code(ec.value(), "remove ",
                                berth::quoted(store::container_dir(options, id)));
    return {};
}

Result<void> remove_container(const Options& options, const std::string& id, bool force)
{
    if (auto r = store::check_id(id); !r)
        return r;
    auto lock = store::lock(options, id);
    if (!lock)
        return std::move(lock).error();
    auto record = store::load(options, id);
    if (!record)
        return remove_partial(options, id);
    const auto status = store::observe_status(options, *record);
    // Anything but stopped is refused without force, created included: its init waits, and the
    // OCI spec lets delete only remove a stopped container (runc deletes a created one).
    if (status != Status::Stopped && !force)
        return Error::with_code(EBUSY, "container is ", status_name(status),
                                ", not stopped: stop it first or force the removal");
    auto cgroup = cgroups::Cgroup::open(record->cgroup_path);
    if (status != Status::Stopped)
        stop_processes(*record, cgroup ? &*cgroup : nullptr);
    // poststop failures do not stop the removal (the OCI spec: "log a warning"): each goes to
    // the caller's warning sink and the remaining hooks run.
    auto bytes = read_file(store::config_copy_path(options, id), max_spec_bytes);
    if (bytes)
        if (auto spec = parse_spec(*bytes); spec && !spec->hooks.poststop.empty())
            run_hooks_warning("poststop", spec->hooks.poststop,
                              state_to_json(store::to_state(*record, Status::Stopped)),
                              options.warn);
    if (cgroup)
        if (auto r = cgroup->destroy(); !r)
            return std::move(r).error().wrap(cat("cgroup ", berth::quoted(record->cgroup_path)));
    std::error_code ec;
    std::filesystem::remove_all(store::container_dir(options, id), ec);
    if (ec)
        return Error::with_code(ec.value(), "remove ",
                                berth::quoted(store::container_dir(options, id)));
    return {};
}

template <class Fn>
auto with_cgroup(const Options& options, const std::string& id, Fn&& fn)
    -> decltype(fn(std::declval<cgroups::Cgroup&>(), std::declval<Status>()))
{
    auto record = store::load(options, id);
    if (!record)
        return std::move(record).error();
    auto cgroup = open_cgroup(*record);
    if (!cgroup)
        return std::move(cgroup).error();
    return fn(*cgroup, store::observe_status(options, *record));
}

} // namespace

Result<State> state(const Options& options, const std::string& id)
{
    auto record = store::load(options, id);
    if (!record)
        return std::move(record).error();
    return store::to_state(*record, store::observe_status(options, *record));
}

Result<std::vector<State>> list(const Options& options)
{
    std::vector<State> out;
    DIR* dir = ::opendir(options.root.c_str());
    if (!dir) {
        if (errno == ENOENT)
            return out;
        return Error::from_errno("open state root ", berth::quoted(options.root));
    }
    std::vector<std::string> ids;
    while (const dirent* entry = ::readdir(dir))
        if (store::check_id(entry->d_name) &&
            (entry->d_type == DT_DIR || entry->d_type == DT_UNKNOWN))
            ids.emplace_back(entry->d_name);
    ::closedir(dir);
    for (const auto& id : ids) {
        auto s = state(options, id);
        if (s) // a container still being created (no state.json yet) is not listed
            out.push_back(std::move(*s));
    }
    return out;
}

Result<std::vector<State>> recover(const Options& options)
{
    return list(options);
}

Result<void> kill(const Options& options, const std::string& id, int sig, bool all)
{
    return wrap(kill_container(options, id, sig, all), "kill", id);
}

Result<void> remove(const Options& options, const std::string& id, bool force)
{
    return wrap(remove_container(options, id, force), "delete", id);
}

Result<void> pause(const Options& options, const std::string& id)
{
    return wrap(with_cgroup(options, id,
                            [](cgroups::Cgroup& c, Status s) -> Result<void> {
                                if (s != Status::Running)
                                    return Error::invalid("container is ", status_name(s),
                                                          ", not running");
                                return c.freeze();
                            }),
                "pause", id);
}

Result<void> resume(const Options& options, const std::string& id)
{
    return wrap(with_cgroup(options, id,
                            [](cgroups::Cgroup& c, Status s) -> Result<void> {
                                if (s != Status::Paused)
                                    return Error::invalid("container is ", status_name(s),
                                                          ", not paused");
                                return c.thaw();
                            }),
                "resume", id);
}

Result<std::vector<pid_t>> processes(const Options& options, const std::string& id)
{
    return wrap(with_cgroup(options, id, [](cgroups::Cgroup& c, Status) { return c.pids(); }), "ps",
                id);
}

Result<cgroups::Stats> stats(const Options& options, const std::string& id)
{
    return wrap(with_cgroup(options, id, [](cgroups::Cgroup& c, Status) { return c.stats(); }),
                "stats", id);
}

} // namespace berth::runtime
