// runtime/container.cpp — Container: a handle on one container (its state directory and its
// init's ProcessHandle), and recover(), which rebuilds the handles after a restart. The verbs
// reuse the id-keyed functions (they take the container lock and re-read the state); the handle
// adds who reaps (runtime/handles.hpp, the reaping rule).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include "base/files.hpp"
#include "runtime/create.hpp"
#include "runtime/exec_marker.hpp"
#include "runtime/exit_record.hpp"
#include "runtime/state_store.hpp"
#include "runtime/supervisor_client.hpp"

namespace berth::runtime {
namespace {

Result<Fd> open_dir(const Options& options, const std::string& id)
{
    return open_at(AT_FDCWD, store::container_dir(options, id), O_PATH | O_DIRECTORY);
}

// The caller's child, handed over from a Child with its pidfd (nothing to reopen, so nothing
// that can fail and leave it unwatched).
Result<Fd> pidfd_of_own_child(Child& child)
{
    auto fd = child.take_pidfd();
    if (!fd.valid())
        return Error::invalid("no process to watch");
    return fd;
}

Result<std::string> cgroup_of(const Options& options, const std::string& id)
{
    auto record = store::load(options, id);
    if (!record)
        return std::move(record).error();
    return record->cgroup_path;
}

} // namespace

Container::Container(const Options& options, std::string id, Fd dir, ProcessHandle init)
    : options_(std::make_shared<const Options>(options)), id_(std::move(id)), dir_(std::move(dir)),
      init_(std::move(init))
{
}

Result<Container> Container::create(const Options& options, const CreateOptions& co)
{
    const auto record_path = exit_record_path(options, co.id);
    if (!options.supervisor_socket.empty()) {
        auto s = supervised_create(options, co);
        if (!s)
            return std::move(s).error().wrap(cat("create container ", co.id));
        auto dir = open_dir(options, co.id);
        if (!dir)
            return std::move(dir).error();
        ProcessHandle init(s->pid, std::move(s->pidfd), ProcessHandle::Reaper::Supervisor,
                           std::move(s->exit_fd), record_path, "", options.durable_state);
        return Container(options, co.id, std::move(*dir), std::move(init));
    }
    if (!co.log_path.empty() || co.log_journald)
        return Error::invalid("create container ", co.id,
                              ": log_path and log_journald need a supervisor "
                              "(Options::supervisor_socket)");
    auto created = create_container(options, co);
    if (!created)
        return std::move(created).error().wrap(cat("create container ", co.id));
    const pid_t pid = created->child.pid();
    auto pidfd = pidfd_of_own_child(created->child);
    if (!pidfd)
        return std::move(pidfd).error();
    auto dir = open_dir(options, co.id);
    auto cgroup = cgroup_of(options, co.id);
    if (!dir || !cgroup)
        return Error::with_code(EIO, "container ", co.id, " vanished after create");
    ProcessHandle init(pid, std::move(*pidfd), ProcessHandle::Reaper::Caller, Fd(), record_path,
                       *cgroup, options.durable_state);
    return Container(options, co.id, std::move(*dir), std::move(init));
}

Result<Container> Container::load(const Options& options, const std::string& id)
{
    auto record = store::load(options, id);
    if (!record)
        return std::move(record).error();
    auto dir = open_dir(options, id);
    if (!dir)
        return std::move(dir).error();
    const auto record_path = exit_record_path(options, id);
    if (!options.supervisor_socket.empty()) {
        auto s = supervised_watch(options, id);
        if (!s)
            return std::move(s).error().wrap(cat("load container ", id));
        ProcessHandle init(record->pid, std::move(s->pidfd), ProcessHandle::Reaper::Supervisor,
                           std::move(s->exit_fd), record_path, "", options.durable_state);
        return Container(options, id, std::move(*dir), std::move(init));
    }
    // Gone already: the handle reports the record on disk (or that there is none).
    auto pidfd = store::open_init(*record);
    ProcessHandle init(record->pid, pidfd ? std::move(*pidfd) : Fd(), ProcessHandle::Reaper::Caller,
                       Fd(), record_path, record->cgroup_path, options.durable_state);
    return Container(options, id, std::move(*dir), std::move(init));
}

Result<void> Container::start()
{
    return runtime::start(*options_, id_);
}

Result<void> Container::kill(int sig, bool all)
{
    if (all)
        return runtime::kill(*options_, id_, sig, true);
    if (auto r = init_.signal(sig); !r)
        return std::move(r).error().wrap(cat("kill container ", id_));
    return {};
}

Result<void> Container::pause()
{
    return runtime::pause(*options_, id_);
}

Result<void> Container::resume()
{
    return runtime::resume(*options_, id_);
}

Result<ProcessHandle> Container::exec(const ExecOptions& eo)
{
    if (!options_->supervisor_socket.empty()) {
        auto s = supervised_exec(*options_, id_, eo);
        if (!s)
            return std::move(s).error().wrap(cat("exec in container ", id_));
        return ProcessHandle(s->pid, std::move(s->pidfd), ProcessHandle::Reaper::Supervisor,
                             std::move(s->exit_fd), exit_record_path(*options_, id_, s->pid), "",
                             options_->durable_state);
    }
    auto child = exec_child(*options_, id_, eo);
    if (!child)
        return std::move(child).error();
    const pid_t pid = child->pid();
    auto pidfd = pidfd_of_own_child(*child);
    if (!pidfd)
        return std::move(pidfd).error();
    auto cgroup = cgroup_of(*options_, id_);
    return ProcessHandle(pid, std::move(*pidfd), ProcessHandle::Reaper::Caller, Fd(),
                         exit_record_path(*options_, id_, pid), cgroup ? *cgroup : "",
                         options_->durable_state);
}

Result<std::vector<ProcessHandle>> Container::execs()
{
    if (options_->supervisor_socket.empty())
        return Error::invalid("container ", id_,
                              ": exec'd processes are tracked only with a supervisor");
    auto pids = exec_marker_pids(*options_, id_);
    if (!pids)
        return std::move(pids).error();
    std::vector<ProcessHandle> out;
    for (const pid_t pid : *pids) {
        auto s = supervised_watch(*options_, id_, pid);
        if (!s) {
            if (s.error().code == ENOENT) // recorded and unmarked meanwhile by its reaper
                continue;
            return std::move(s).error().wrap(cat("watch process ", pid, " in container ", id_));
        }
        out.emplace_back(s->pid, std::move(s->pidfd), ProcessHandle::Reaper::Supervisor,
                         std::move(s->exit_fd), exit_record_path(*options_, id_, pid), "",
                         options_->durable_state);
    }
    return out;
}

Result<void> Container::remove(bool force)
{
    // The init's reaper finishes first (its record written, OOM kills read) before the cgroup
    // goes; a handle that is not the reaper just waits for the exit.
    if (init_.valid() && init_.pidfd() >= 0) {
        if (force)
            (void)init_.signal(SIGKILL);
        auto reaped = init_.try_reap();
        if (force && reaped && !*reaped)
            (void)init_.wait();
    }
    return runtime::remove(*options_, id_, force);
}

Result<State> Container::state() const
{
    return runtime::state(*options_, id_);
}

Result<cgroups::Stats> Container::stats() const
{
    return runtime::stats(*options_, id_);
}

std::optional<ExitRecord> Container::exit_record() const
{
    auto r = read_exit_record(exit_record_path(*options_, id_));
    return r ? *r : std::nullopt;
}

} // namespace berth::runtime
