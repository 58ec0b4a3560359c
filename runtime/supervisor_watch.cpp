// runtime/supervisor_watch.cpp — berth-supervisor's watchers: one more exit pipe for a process
// it watches already, and the re-adoption of inits and exec'd processes a supervisor before it
// started (it died): watched through their pidfd, their logs drained again, their end recorded
// honestly (ExitRecord::exit_unknown) since this supervisor is not their parent.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <cerrno>
#include "base/files.hpp"
#include "runtime/exec_marker.hpp"
#include "runtime/exit_record.hpp"
#include "runtime/state_store.hpp"
#include "runtime/supervisor_internal.hpp"
#include "runtime/supervisor_logs.hpp"
#include "runtime/supervisor_protocol.hpp"

namespace berth::runtime::supervisor_detail {

// True once the process behind pidfd has ended (it need not be our child).
bool has_ended(int pidfd)
{
    pollfd p{pidfd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
}

// Watches a live init a supervisor before us started (it died, SIGKILL): we are not its parent
// now (pid 1 or the subreaper above that supervisor is), so its exit code is not ours to read,
// but its pidfd tells us when it ends, and the record says so honestly. Never killed on failure.
Result<std::pair<json, std::vector<Fd>>> Supervisor::readopt(const std::string& id, Fd pidfd,
                                                             Watched w)
{
    auto exit_pipe = make_pipe(O_NONBLOCK);
    if (!exit_pipe)
        return std::move(exit_pipe).error();
    Fd caller_pidfd(::fcntl(pidfd.get(), F_DUPFD_CLOEXEC, 3));
    if (!caller_pidfd.valid())
        return Error::from_errno("dup pidfd");
    const int key = pidfd.get();
    if (auto r = add(key); !r)
        return std::move(r).error().wrap(cat("re-adopt container ", id));
    w.foreign = true;
    w.oom_kills_before = oom_kills_now(w.cgroup_path);
    w.exit_writers.push_back(std::move((*exit_pipe)[1]));
    w.pidfd = std::move(pidfd);
    const pid_t pid = w.pid;
    watched_[key] = std::move(w);
    std::vector<Fd> out;
    out.push_back(std::move((*exit_pipe)[0]));
    out.push_back(std::move(caller_pidfd));
    return std::pair{json{{"ok", true}, {"pid", pid}, {"hasPidfd", true}}, std::move(out)};
}

// Drains the logs of a re-adopted container again, from the pipes its init still holds. What
// cannot be reattached stays in the pipe (the container blocks once it is full, never EPIPE).
void Supervisor::reattach(const Options& options, const std::string& id, pid_t pid)
{
    auto logs = reattach_logs(options, id, pid, pump_.journal());
    if (!logs || !*logs)
        return;
    (void)pump_.add(std::move((*logs)->out), (*logs)->log, "stdout");
    (void)pump_.add(std::move((*logs)->err), (*logs)->log, "stderr");
}

// A process we watch already (by its record path, one per process): one more exit pipe.
std::optional<Result<std::pair<json, std::vector<Fd>>>>
Supervisor::watch_known(const std::string& record_path, std::array<Fd, 2>& exit_pipe)
{
    for (auto& [key, w] : watched_) {
        if (w.record_path != record_path)
            continue;
        Fd pidfd(::fcntl(w.pidfd.get(), F_DUPFD_CLOEXEC, 3));
        if (!pidfd.valid())
            return Result<std::pair<json, std::vector<Fd>>>(Error::from_errno("dup pidfd"));
        w.exit_writers.push_back(std::move(exit_pipe[1]));
        std::vector<Fd> out;
        out.push_back(std::move(exit_pipe[0]));
        out.push_back(std::move(pidfd));
        return Result<std::pair<json, std::vector<Fd>>>(
            std::pair{json{{"ok", true}, {"pid", w.pid}, {"hasPidfd", true}}, std::move(out)});
    }
    return std::nullopt;
}

// A new watcher of a process exec'd into container id, as serve_watch for an init: ours, or
// alive and marked by a supervisor before us (re-adopted: exit_unknown), or ended (its record
// on disk, or written now as exit_unknown when nobody was left to reap it). ENOENT when no such
// process was ever exec'd by a supervisor (no marker, no record).
Result<std::pair<json, std::vector<Fd>>> Supervisor::watch_exec(const Options& options,
                                                                const std::string& id, pid_t pid)
{
    if (pid <= 0)
        return Error::invalid("watch: pid must be positive");
    auto exit_pipe = make_pipe(O_NONBLOCK);
    if (!exit_pipe)
        return std::move(exit_pipe).error();
    const auto record_path = exit_record_path(options, id, pid);
    if (auto known = watch_known(record_path, *exit_pipe))
        return std::move(*known);
    const auto marker_path = exec_marker_path(options, id, pid);
    auto marker = read_exec_marker(marker_path);
    if (!marker)
        return std::move(marker).error();
    auto on_disk = read_exit_record(record_path);
    const bool recorded = on_disk && *on_disk;
    if (!*marker && !recorded)
        return Error::with_code(ENOENT, "no process ", pid, " was exec'd into container ",
                                berth::quoted(id));
    auto pidfd = *marker ? open_marked(**marker) : Result<Fd>(Error::with_code(ESRCH, "gone"));
    auto record = store::load(options, id);
    const std::string cgroup_path = record ? record->cgroup_path : "";
    if (pidfd && !has_ended(pidfd->get()) && !recorded) {
        Watched w;
        w.pid = pid;
        w.record_path = record_path;
        w.cgroup_path = cgroup_path;
        w.durable = options.durable_state;
        w.marker_path = marker_path;
        return readopt(id, std::move(*pidfd), std::move(w));
    }
    if (!recorded &&
        write_exit_record(record_path, make_unknown_exit_record(pid, cgroup_path, 0, false),
                          options.durable_state))
        (void)::unlink(marker_path.c_str());
    notify((*exit_pipe)[1]);
    std::vector<Fd> out;
    out.push_back(std::move((*exit_pipe)[0]));
    if (pidfd)
        out.push_back(std::move(*pidfd));
    return std::pair{json{{"ok", true}, {"pid", pid}, {"hasPidfd", pidfd.has_value()}},
                     std::move(out)};
}

// A new watcher of a container's init. Ours: one more exit pipe. Alive but not known here (a
// supervisor before us started it): re-adopted. Ended: its record is on disk, or, when nobody
// was left to reap it (the supervisor died first), written now marked exit_unknown; the exit
// pipe comes back signalled.
Result<std::pair<json, std::vector<Fd>>> Supervisor::serve_watch(const json& request)
{
    const auto options = wire::options_from_json(request.at("options"));
    const auto id = request.at("id").get<std::string>();
    if (auto r = store::check_id(id); !r)
        return std::move(r).error();
    if (request.contains("pid")) // an exec'd process, not the init
        return watch_exec(options, id, request.at("pid").get<pid_t>());
    auto exit_pipe = make_pipe(O_NONBLOCK);
    if (!exit_pipe)
        return std::move(exit_pipe).error();
    const auto record_path = exit_record_path(options, id);
    if (auto known = watch_known(record_path, *exit_pipe))
        return std::move(*known);
    auto record = store::load(options, id);
    if (!record)
        return std::move(record).error();
    auto pidfd = record->pid > 0 ? store::open_init(*record)
                                 : Result<Fd>(Error::with_code(ESRCH, "never started"));
    auto on_disk = read_exit_record(record_path);
    const bool unrecorded = on_disk && !*on_disk;
    if (pidfd && !has_ended(pidfd->get()) && unrecorded) {
        Watched w;
        w.pid = record->pid;
        w.record_path = record_path;
        w.cgroup_path = record->cgroup_path;
        w.durable = options.durable_state;
        w.init_of = id;
        auto answer = readopt(id, std::move(*pidfd), std::move(w));
        if (answer)
            reattach(options, id, record->pid);
        return answer;
    }
    if (record->pid > 0 && unrecorded)
        (void)write_exit_record(record_path,
                                make_unreaped_init_record(record->pid, record->cgroup_path),
                                options.durable_state);
    notify((*exit_pipe)[1]);
    std::vector<Fd> out;
    out.push_back(std::move((*exit_pipe)[0]));
    if (pidfd)
        out.push_back(std::move(*pidfd));
    return std::pair{json{{"ok", true}, {"pid", record->pid}, {"hasPidfd", pidfd.has_value()}},
                     std::move(out)};
}

} // namespace berth::runtime::supervisor_detail
