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
#include "base/trace.hpp"
#include "runtime/exit_record.hpp"
#include "runtime/hooks.hpp"
#include "runtime/container_cgroup.hpp"
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

Result<cgroups::Cgroup> open_cgroup(const Options& options, const store::Record& record)
{
    return open_container_cgroup(record, cgroup_sharers(options, record));
}

Result<void> remove_dir(const std::string& dir)
{
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec)
        return Error::with_code(ec.value(), "remove ", berth::quoted(dir));
    return {};
}

Result<void> require_running(const Options& options, const store::Record& record)
{
    const auto status = store::observe_status(options, record);
    if (status == Status::Stopped)
        return store::wrong_state(status, "running");
    return {};
}

// kill, pause and resume hold the container's lock like create, start and delete: a signal or
// freeze never lands between a create's steps or on a container being deleted (and its pid
// recycled) by another thread or process.
Result<Fd> lock_container(const Options& options, const std::string& id)
{
    if (auto r = store::check_id(id); !r)
        return std::move(r).error();
    return store::lock(options, id);
}

Result<void> kill_container(const Options& options, const std::string& id, int sig, bool all)
{
    auto lock = lock_container(options, id);
    if (!lock)
        return std::move(lock).error();
    auto record = store::load(options, id);
    if (!record)
        return std::move(record).error();
    if (auto r = require_running(options, *record); !r)
        return r;
    if (all) {
        const auto sharers = cgroup_sharers(options, *record);
        auto cgroup = open_container_cgroup(*record, sharers);
        if (!cgroup)
            return std::move(cgroup).error();
        auto pids = container_processes(*record, *cgroup, sharers);
        if (!pids)
            return std::move(pids).error();
        for (const pid_t pid : *pids)
            if (::kill(pid, sig) < 0 && errno != ESRCH)
                return Error::from_errno("kill ", pid);
        return {};
    }
    auto pidfd = store::open_init(*record);
    if (!pidfd) // it died since we looked
        return pidfd.error().code == ESRCH ? store::wrong_state(Status::Stopped, "running")
                                           : std::move(pidfd).error();
    if (::syscall(SYS_pidfd_send_signal, pidfd->get(), sig, nullptr, 0) < 0) {
        if (errno == ESRCH) // exited, not yet reaped
            return store::wrong_state(Status::Stopped, "running");
        return Error::from_errno("signal ", sig, " to container init ", record->pid);
    }
    return {};
}

// Removes what create made. The record is written before create makes anything, so this also
// cleans up after a create that died midway (pid 0, or an init that never started).
Result<void> remove_container(const Options& options, const std::string& id, bool force)
{
    if (auto r = store::check_id(id); !r)
        return r;
    auto lock = store::lock(options, id);
    if (!lock)
        return std::move(lock).error();
    const auto dir = store::container_dir(options, id);
    auto record = store::load(options, id);
    if (!record) // died before its first save (it made nothing else yet), or a corrupt state
        return remove_dir(dir);
    const auto status = store::observe_status(options, *record);
    trace::phase("delete: locked, state loaded, status observed");
    // Anything but stopped is refused without force, created included: its init waits, and the
    // OCI spec lets delete only remove a stopped container (runc deletes a created one).
    if (status != Status::Stopped && !force)
        return Error::with_code(EBUSY, "container is ", status_name(status),
                                ", not stopped: stop it first or force the removal");
    const auto sharers = cgroup_sharers(options, *record);
    auto cgroup = open_container_cgroup(*record, sharers);
    trace::phase("delete: cgroup opened");
    if (status != Status::Stopped)
        stop_container_processes(*record, cgroup ? &*cgroup : nullptr, sharers);
    trace::phase("delete: processes stopped");
    // poststop failures do not stop the removal (the OCI spec: "log a warning"): each goes to
    // the caller's warning sink and the remaining hooks run.
    if (!record->hooks || record->hooks->poststop)
        if (auto spec = store::load_config(options, id); spec && !spec->hooks.poststop.empty())
            run_hooks_warning("poststop", spec->hooks.poststop,
                              state_to_json(store::to_state(*record, Status::Stopped)),
                              options.warn);
    if (cgroup)
        if (auto r = release_container_cgroup(options, *record, *cgroup, sharers); !r)
            return std::move(r).error().wrap(cat("cgroup ", berth::quoted(record->cgroup_path)));
    forget_oom_claims(record->cgroup_path);
    trace::phase("delete: hooks, cgroup removed");
    return remove_dir(dir);
}

// fn(cgroup, status) on the container's cgroup; under the container's lock when exclusive.
template <class Fn>
auto with_cgroup(const Options& options, const std::string& id, bool exclusive, Fn&& fn)
    -> decltype(fn(std::declval<cgroups::Cgroup&>(), std::declval<Status>()))
{
    Fd lock;
    if (exclusive) {
        auto locked = lock_container(options, id);
        if (!locked)
            return std::move(locked).error();
        lock = std::move(*locked);
    }
    auto record = store::load(options, id);
    if (!record)
        return std::move(record).error();
    auto cgroup = open_cgroup(options, *record);
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
    // No init yet: creating while its create holds the lock; else a create that died midway,
    // shown as stopped for delete to remove.
    if (record->pid <= 0 && store::locked(options, id))
        return store::to_state(*record, Status::Creating);
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
        if (s) // a directory without state.json made nothing yet: create's mkdir, not listed
            out.push_back(std::move(*s));
    }
    return out;
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
    return wrap(with_cgroup(options, id, true,
                            [](cgroups::Cgroup& c, Status s) -> Result<void> {
                                if (s != Status::Running)
                                    return store::wrong_state(s, "running");
                                return c.freeze();
                            }),
                "pause", id);
}

Result<void> resume(const Options& options, const std::string& id)
{
    return wrap(with_cgroup(options, id, true,
                            [](cgroups::Cgroup& c, Status s) -> Result<void> {
                                if (s != Status::Paused)
                                    return store::wrong_state(s, "paused");
                                return c.thaw();
                            }),
                "resume", id);
}

Result<std::vector<pid_t>> processes(const Options& options, const std::string& id)
{
    return wrap(
        with_cgroup(options, id, false, [](cgroups::Cgroup& c, Status) { return c.pids(); }), "ps",
        id);
}

Result<cgroups::Stats> stats(const Options& options, const std::string& id)
{
    return wrap(
        with_cgroup(options, id, false, [](cgroups::Cgroup& c, Status) { return c.stats(); }),
        "stats", id);
}

} // namespace berth::runtime
