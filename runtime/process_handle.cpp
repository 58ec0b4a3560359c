// runtime/process_handle.cpp — ProcessHandle: a container process as a pidfd plus the rule of
// who reaps it (runtime/handles.hpp). Not thread-safe: one owner polls and reaps it.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include "runtime/exit_record.hpp"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace berth::runtime {
namespace {

// True when fd has POLLIN (or hang-up) now; never blocks with timeout 0.
Result<bool> ready(int fd, int timeout_ms)
{
    pollfd p{fd, POLLIN, 0};
    for (;;) {
        const int n = ::poll(&p, 1, timeout_ms);
        if (n >= 0)
            return n > 0;
        if (errno != EINTR)
            return Error::from_errno("poll");
    }
}

} // namespace

ProcessHandle::ProcessHandle(pid_t pid, Fd pidfd, Reaper reaper, Fd exit_fd,
                             std::string record_path, std::string cgroup_path, bool durable)
    : pid_(pid), pidfd_(std::move(pidfd)), reaper_(reaper), exit_fd_(std::move(exit_fd)),
      record_path_(std::move(record_path)), cgroup_path_(std::move(cgroup_path)), durable_(durable),
      oom_kills_before_(reaper == Reaper::Caller ? oom_kills_now(cgroup_path_) : 0)
{
}

Result<std::optional<ExitRecord>> ProcessHandle::try_reap()
{
    if (reaped_ && record_pending_) // the last write failed (disk full): the record must exist
        if (auto w = write_record(); !w)
            return std::move(w).error();
    if (reaped_)
        return reaped_;
    if (!valid())
        return Error::invalid("no process");
    return reaper_ == Reaper::Caller ? reap_own_child() : read_supervisor_record();
}

Result<void> ProcessHandle::write_record()
{
    if (!record_path_.empty())
        if (auto w = write_exit_record(record_path_, *reaped_, durable_);
            !w && w.error().code != ENOENT) // ENOENT: the container was removed already
            return w;
    record_pending_ = false;
    return {};
}

// We are the parent: reap, then write the record before anyone can remove the cgroup (the
// caller removes it only after this returns). A process we are not the parent of (a handle
// loaded after a restart without a supervisor) has its record on disk or none at all.
Result<std::optional<ExitRecord>> ProcessHandle::reap_own_child()
{
    if (!pidfd_.valid()) // gone before this handle was made: only the disk knows
        return record_on_disk();
    siginfo_t info{};
    const int r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info,
                           WEXITED | WNOHANG);
    if (r < 0 && errno == EINTR)
        return std::optional<ExitRecord>();
    if (r < 0 && errno != ECHILD)
        return Error::from_errno("waitid ", pid_);
    if (r == 0) {
        if (info.si_pid == 0)
            return std::optional<ExitRecord>(); // still running
        reaped_ = make_exit_record(info, cgroup_path_, oom_kills_before_);
        record_pending_ = true;
        if (auto w = write_record(); !w)
            return std::move(w).error();
        return reaped_;
    }
    auto exited = ready(pidfd_.get(), 0); // ECHILD: not ours
    if (!exited)
        return std::move(exited).error();
    if (!*exited)
        return std::optional<ExitRecord>();
    return record_on_disk();
}

Result<std::optional<ExitRecord>> ProcessHandle::record_on_disk()
{
    auto record = read_exit_record(record_path_);
    if (!record)
        return std::move(record).error();
    if (!*record)
        return Error::with_code(ECHILD, "process ", pid_,
                                " exited with no reaper to record its exit code");
    reaped_ = std::move(*record);
    return reaped_;
}

// The supervisor closes exit_fd_ after writing the record (or when it dies).
Result<std::optional<ExitRecord>> ProcessHandle::read_supervisor_record()
{
    auto closed = ready(exit_fd_.get(), 0);
    if (!closed)
        return std::move(closed).error();
    if (!*closed)
        return std::optional<ExitRecord>();
    auto record = read_exit_record(record_path_);
    if (!record)
        return std::move(record).error();
    if (!*record)
        return Error::with_code(EPIPE, "the supervisor went away before recording the exit of ",
                                pid_);
    reaped_ = std::move(*record);
    return reaped_;
}

Result<ExitRecord> ProcessHandle::wait()
{
    for (;;) {
        auto r = try_reap();
        if (!r)
            return std::move(r).error();
        if (*r)
            return std::move(**r);
        if (auto w = ready(wait_fd(), -1); !w)
            return std::move(w).error();
    }
}

Result<void> ProcessHandle::signal(int sig) const
{
    if (!valid() || reaped_ || !pidfd_.valid())
        return Error::with_code(ESRCH, "process ", pid_, " has exited");
    if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) < 0)
        return Error::from_errno("signal ", sig, " to process ", pid_);
    return {};
}

} // namespace berth::runtime
