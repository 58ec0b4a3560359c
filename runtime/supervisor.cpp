// runtime/supervisor.cpp — berth-supervisor's loop: one process per node that is the parent of
// every supervised container process, so exit codes and logs outlive the agent. It serves
// create, exec and watch on a root-only unix socket, reaps each process through its pidfd (the
// only reaper, no waitpid(-1)), writes the exit record, then signals every watcher by writing a
// byte into and closing its exit pipe; it drains the containers' stdout/stderr pipes into
// json-file logs or journald (runtime/journal_log.hpp), so a container never blocks or gets
// EPIPE while the agent is down. Watchers and re-adoption: runtime/supervisor_watch.cpp.
// Two threads: this loop (requests and reaping: a create or exec runs to completion before it
// goes on) and the log pump (runtime/log_pump.cpp), so a slow create never stalls a container
// writing its logs. As a child subreaper (set by the binary, which also blocks SIGCHLD for the
// signalfd here) it also reaps the orphans that land on it, e.g. what an exec'd process in a
// container without a pid namespace left behind, so none stays a zombie. After a restart it
// re-adopts the live inits the agent asks to watch: not their parent any more, it sees them end
// through their pidfd and records that honestly (ExitRecord::exit_unknown), and drains their
// logs again from the pipes they still hold (runtime/supervisor_logs.hpp). Runs as root on the
// host.
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <algorithm>
#include <map>
#include <memory>
#include "base/files.hpp"
#include "runtime/create.hpp"
#include "runtime/exec_marker.hpp"
#include "runtime/exit_record.hpp"
#include "runtime/json_log.hpp"
#include "runtime/log_pump.hpp"
#include "runtime/state_store.hpp"
#include "runtime/supervisor_internal.hpp"
#include "runtime/supervisor_logs.hpp"
#include "runtime/supervisor_protocol.hpp"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace berth::runtime::supervisor_detail {

// Signals one watcher: readable at once, whoever else still holds the write end.
void notify(Fd& writer)
{
    (void)!::write(writer.get(), "x", 1);
    writer.reset();
}

Result<std::array<Fd, 2>> make_pipe(int flags)
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC | flags) < 0)
        return Error::from_errno("pipe");
    return std::array<Fd, 2>{Fd(p[0]), Fd(p[1])};
}

namespace {

ino_t inode_of(const Fd& fd)
{
    struct stat st {};
    return ::fstat(fd.get(), &st) == 0 ? st.st_ino : 0;
}

} // namespace

Result<void> Supervisor::add(int fd)
{
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0)
        return Error::from_errno("epoll_ctl");
    return {};
}

Result<void> Supervisor::run()
{
    epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_.valid())
        return Error::from_errno("epoll_create1");
    if (auto r = add(listener_.get()); !r)
        return r;
    if (auto r = pump_.start(); !r)
        return r;
    // The orphans a subreaper inherits announce themselves by SIGCHLD only; the binary blocks it
    // (before any thread starts) so that it queues for the signalfd. Not blocked: nothing here
    // changes the caller's signal mask, and orphans go unreaped (none come without subreaper).
    sigset_t blocked;
    if (::pthread_sigmask(SIG_BLOCK, nullptr, &blocked) == 0 && sigismember(&blocked, SIGCHLD)) {
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigchld_ = Fd(::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK));
        if (!sigchld_.valid())
            return Error::from_errno("signalfd");
        if (auto r = add(sigchld_.get()); !r)
            return r;
    }
    epoll_event events[64];
    for (;;) {
        const int n = ::epoll_wait(epoll_.get(), events, 64, idle_timeout_ms());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("epoll_wait");
        if (n > 0)
            idle_since_.reset(); // something happened: the idle time starts again
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == listener_.get()) {
                Fd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
                if (conn.valid())
                    handle_connection(std::move(conn));
            } else if (sigchld_.valid() && fd == sigchld_.get()) {
                signalfd_siginfo info[16];
                while (::read(sigchld_.get(), info, sizeof info) > 0) {
                }
                reap_orphans();
            } else if (watched_.count(fd) != 0) {
                reap(fd);
            }
        }
        if (idle_check())
            return {}; // left idle (supervisor_idle.cpp)
    }
}

// One request, one answer. A client that stalls is cut off after 5 s (it is root anyway).
void Supervisor::handle_connection(Fd conn)
{
    const timeval timeout{5, 0};
    ::setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    std::vector<Fd> fds;
    auto text = wire::receive_message(conn.get(), fds);
    if (!text)
        return;
    Result<std::pair<json, std::vector<Fd>>> answer = Error::invalid("malformed request");
    try {
        const json request = json::parse(*text);
        answer = serve(request, fds);
    } catch (const std::exception& e) {
        answer = Error::invalid("malformed supervisor request: ", e.what());
    }
    if (!answer) {
        (void)wire::send_message(conn.get(), wire::error_answer(answer.error()));
        return;
    }
    std::vector<int> raw;
    for (const auto& fd : answer->second)
        raw.push_back(fd.get());
    (void)wire::send_message(conn.get(), answer->first.dump(), raw);
}

Result<std::pair<json, std::vector<Fd>>> Supervisor::serve(const json& request,
                                                           std::vector<Fd>& fds)
{
    const auto op = request.at("op").get<std::string>();
    if (op == "create")
        return serve_create(request, fds);
    if (op == "exec")
        return serve_exec(request, fds);
    if (op == "watch")
        return serve_watch(request);
    return Error::invalid("unknown supervisor request ", berth::quoted(op));
}

namespace {

// The caller's stdio as sent (flags say which of the three came), /dev/null for the others:
// the supervisor's own stdio is not the caller's.
Result<std::array<Fd, 3>> stdio_from(const json& request, std::vector<Fd>& fds)
{
    std::array<Fd, 3> out;
    std::size_t next = 0;
    const auto& present = request.at("stdio");
    for (std::size_t i = 0; i < 3; ++i) {
        if (present.at(i).get<bool>() && next < fds.size()) {
            out[i] = std::move(fds[next++]);
            continue;
        }
        auto null = open_at(AT_FDCWD, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY);
        if (!null)
            return std::move(null).error();
        out[i] = std::move(*null);
    }
    return out;
}

} // namespace

namespace {

// A process we could not take over is killed and reaped here: never left running unwatched, nor
// as a zombie nobody reaps.
void kill_and_reap(const Fd& pidfd)
{
    (void)::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
    siginfo_t info{};
    while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd.get()), &info,
                    WEXITED) < 0 &&
           errno == EINTR) {
    }
}

} // namespace

// Takes over a process we are the parent of: watched by its pidfd, answered with its exit pipe.
Result<std::pair<json, std::vector<Fd>>> Supervisor::adopt(pid_t pid, Fd pidfd, Watched w)
{
    auto exit_pipe = make_pipe(O_NONBLOCK);
    if (!exit_pipe) {
        kill_and_reap(pidfd);
        return std::move(exit_pipe).error();
    }
    Fd caller_pidfd(::fcntl(pidfd.get(), F_DUPFD_CLOEXEC, 3));
    if (!caller_pidfd.valid()) {
        auto error = Error::from_errno("dup pidfd");
        kill_and_reap(pidfd);
        return error;
    }
    w.pid = pid;
    w.exit_writers.push_back(std::move((*exit_pipe)[1]));
    const int key = pidfd.get();
    if (auto r = add(key); !r) {
        kill_and_reap(pidfd);
        return std::move(r).error();
    }
    w.pidfd = std::move(pidfd);
    watched_[key] = std::move(w);
    std::vector<Fd> out;
    out.push_back(std::move((*exit_pipe)[0]));
    out.push_back(std::move(caller_pidfd));
    return std::pair{json{{"ok", true}, {"pid", pid}, {"hasPidfd", true}}, std::move(out)};
}

namespace {

Result<Fd> own_child_pidfd(Child& child)
{
    auto fd = child.take_pidfd();
    if (!fd.valid())
        return Error::invalid("no process to watch");
    return fd;
}

} // namespace

Result<std::pair<json, std::vector<Fd>>> Supervisor::serve_create(const json& request,
                                                                  std::vector<Fd>& fds)
{
    const auto options = wire::options_from_json(request.at("options"));
    CreateOptions co;
    co.id = request.at("id").get<std::string>();
    co.bundle = request.at("bundle").get<std::string>();
    co.console_socket = request.at("consoleSocket").get<std::string>();
    co.pid_file = request.at("pidFile").get<std::string>();
    co.no_pivot = request.at("noPivot").get<bool>();
    co.no_new_keyring = request.at("noNewKeyring").get<bool>();
    const auto log_path = request.at("logPath").get<std::string>();
    // journald (runtime.hpp LogDriver): an older client sends no logDriver, meaning json-file.
    LogConfig config;
    config.journald = request.value("logDriver", std::string()) == "journald";
    if (auto f = request.find("logFields"); f != request.end() && f->is_array())
        for (const auto& field : *f)
            if (field.is_string())
                config.fields.push_back(field.get<std::string>());
    if (auto ok = valid_journal_fields(config.fields); !ok)
        return std::move(ok).error().wrap(cat("create container ", co.id));
    const bool logged = config.journald || !log_path.empty();
    auto stdio = stdio_from(request, fds);
    if (!stdio)
        return std::move(stdio).error();
    std::array<Fd, 2> out_pipe, err_pipe;
    if (logged) {
        auto o = make_log_pipe();
        auto e = make_log_pipe();
        if (!o || !e)
            return std::move(o ? e : o).error();
        out_pipe = std::move(*o);
        err_pipe = std::move(*e);
        (*stdio)[1] = std::move(out_pipe[1]);
        (*stdio)[2] = std::move(err_pipe[1]);
    }
    co.stdin_fd = (*stdio)[0].get();
    co.stdout_fd = (*stdio)[1].get();
    co.stderr_fd = (*stdio)[2].get();
    auto created = create_container(options, co);
    if (!created)
        return std::move(created).error().wrap(cat("create container ", co.id));
    const pid_t pid = created->child.pid();
    auto pidfd = own_child_pidfd(created->child);
    if (!pidfd)
        return std::move(pidfd).error();
    auto record = store::load(options, co.id);
    Watched w;
    w.record_path = exit_record_path(options, co.id);
    w.cgroup_path = record ? record->cgroup_path : "";
    w.oom_kills_before = oom_kills_now(w.cgroup_path);
    w.durable = options.durable_state;
    w.init_of = co.id;
    if (logged) {
        config.path = log_path;
        config.max_bytes = request.at("logMaxBytes").get<std::uint64_t>();
        config.max_files = request.at("logMaxFiles").get<unsigned>();
        config.stdout_inode = inode_of(out_pipe[0]);
        config.stderr_inode = inode_of(err_pipe[0]);
        // Without it a restarted supervisor cannot find the log again; the container runs on.
        if (config.journald || log_path.front() == '/')
            (void)save_log_config(options, co.id, config);
        auto log = make_log_sink(config, pump_.journal());
        for (auto* p : {&out_pipe, &err_pipe})
            if (auto r = pump_.add(std::move((*p)[0]), log, p == &out_pipe ? "stdout" : "stderr");
                !r)
                return std::move(r).error();
    }
    return adopt(pid, std::move(*pidfd), std::move(w));
}

Result<std::pair<json, std::vector<Fd>>> Supervisor::serve_exec(const json& request,
                                                                std::vector<Fd>& fds)
{
    const auto options = wire::options_from_json(request.at("options"));
    const auto id = request.at("id").get<std::string>();
    auto process = parse_process(request.at("process").dump());
    if (!process)
        return std::move(process).error();
    auto stdio = stdio_from(request, fds);
    if (!stdio)
        return std::move(stdio).error();
    ExecOptions eo;
    eo.process = std::move(*process);
    eo.console_socket = request.at("consoleSocket").get<std::string>();
    eo.pid_file = request.at("pidFile").get<std::string>();
    eo.stdin_fd = (*stdio)[0].get();
    eo.stdout_fd = (*stdio)[1].get();
    eo.stderr_fd = (*stdio)[2].get();
    auto record = store::load(options, id);
    Watched w;
    w.cgroup_path = record ? record->cgroup_path : "";
    w.oom_kills_before = oom_kills_now(w.cgroup_path);
    auto child = exec_child(options, id, eo);
    if (!child)
        return std::move(child).error();
    const pid_t pid = child->pid();
    auto pidfd = own_child_pidfd(*child);
    if (!pidfd)
        return std::move(pidfd).error();
    w.record_path = exit_record_path(options, id, pid);
    w.durable = options.durable_state;
    // What a supervisor after us re-adopts it by. Without it the process runs on all the same,
    // only a successor could not tell it from a process that reused its pid.
    if (write_exec_marker(options, id, pid))
        w.marker_path = exec_marker_path(options, id, pid);
    return adopt(pid, std::move(*pidfd), std::move(w));
}

// The record is on disk before any watcher hears of the exit, and before anyone may remove
// the cgroup (the agent removes only after its watcher fired).
void Supervisor::reap(int pidfd)
{
    auto it = watched_.find(pidfd);
    auto& w = it->second;
    if (w.foreign) {
        // Not our child: its pidfd became readable when it ended; its parent has the code.
        if (!has_ended(pidfd))
            return; // a stale event for a reused fd number: not ended yet
        if (write_exit_record(
                w.record_path,
                make_unknown_exit_record(w.pid, w.cgroup_path, w.oom_kills_before, true),
                w.durable) &&
            !w.marker_path.empty())
            (void)::unlink(w.marker_path.c_str());
    } else {
        siginfo_t info{};
        const int r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info,
                               WEXITED | WNOHANG);
        if ((r < 0 && errno == EINTR) || (r == 0 && info.si_pid == 0))
            return; // not exited yet: epoll reports it again
        // r < 0 (not our child any more: cannot happen while we are its only reaper): no
        // record, and the watchers hear so (ProcessHandle: "went away before recording")
        // instead of the pidfd spinning in epoll.
        if (r == 0) {
            const auto record = make_exit_record(info, w.cgroup_path, w.oom_kills_before);
            // ENOENT: the container was removed meanwhile; nobody is left to read the record.
            if (write_exit_record(w.record_path, record, w.durable) && !w.marker_path.empty())
                (void)::unlink(w.marker_path.c_str()); // the record says it all now
        }
    }
    if (!w.init_of.empty()) // the container ended: no later exit in it to label
        forget_oom_claims(w.cgroup_path);
    for (auto& writer : w.exit_writers)
        notify(writer);
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, pidfd, nullptr);
    watched_.erase(it);
}

// Every exited child: peeked first (WNOWAIT), so one we watch is reaped by reap(), which records
// it; any other is an orphan we inherited as subreaper (the processes an exec'd process left
// behind in a container without a pid namespace): reaped, nothing to record it in.
void Supervisor::reap_orphans()
{
    for (;;) {
        siginfo_t info{};
        if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid == 0)
            return;
        const pid_t pid = info.si_pid;
        auto ours = std::find_if(watched_.begin(), watched_.end(), [pid](const auto& entry) {
            return !entry.second.foreign && entry.second.pid == pid;
        });
        if (ours != watched_.end()) {
            reap(ours->first);
            continue;
        }
        siginfo_t gone{};
        (void)::waitid(P_PID, static_cast<id_t>(pid), &gone, WEXITED | WNOHANG);
    }
}

} // namespace berth::runtime::supervisor_detail
