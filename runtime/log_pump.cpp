// runtime/log_pump.cpp — the supervisor's log drain thread (see log_pump.hpp). Each epoll event
// carries the Pipe itself (a stable heap object): only this thread reads and erases pipes, so
// the lock is held just for the map's insertions and erasures, never while a log is written.
#include "runtime/log_pump.hpp"
#include "runtime/json_log.hpp"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cerrno>

namespace berth::runtime {

LogPump::~LogPump()
{
    if (thread_.joinable()) {
        const std::uint64_t one = 1;
        (void)!::write(stop_.get(), &one, sizeof one);
        thread_.join();
    }
}

Result<void> LogPump::start()
{
    epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_.valid())
        return Error::from_errno("epoll_create1");
    stop_ = Fd(::eventfd(0, EFD_CLOEXEC));
    if (!stop_.valid())
        return Error::from_errno("eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr; // the stop event
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, stop_.get(), &ev) < 0)
        return Error::from_errno("epoll_ctl");
    thread_ = std::thread([this] { loop(); });
    return {};
}

Result<void> LogPump::add(Fd fd, std::shared_ptr<LogSink> log, const char* stream)
{
    auto pipe = std::make_unique<Pipe>(Pipe{std::move(fd), std::move(log), stream, {}});
    Pipe* raw = pipe.get();
    const int key = raw->fd.get();
    {
        const std::lock_guard lock(mutex_);
        pipes_[key] = std::move(pipe);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = raw;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, key, &ev) < 0) {
        auto error = Error::from_errno("epoll_ctl");
        const std::lock_guard lock(mutex_);
        pipes_.erase(key);
        return error;
    }
    return {};
}

bool LogPump::idle()
{
    const std::lock_guard lock(mutex_);
    return pipes_.empty() && !journal_pending_.load();
}

void LogPump::loop()
{
    epoll_event events[64];
    for (;;) {
        // Wakes for journald's backlog only while there is one (journal_log.hpp).
        const int n = ::epoll_wait(epoll_.get(), events, 64, journal_.retry_in_ms());
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) {
            journal_.flush();
            journal_pending_.store(journal_.retry_in_ms() >= 0);
            continue;
        }
        if (n < 0)
            return; // EBADF/EINVAL: cannot happen with our own epoll fd
        for (int i = 0; i < n; ++i) {
            if (events[i].data.ptr == nullptr)
                return;
            drain(*static_cast<Pipe*>(events[i].data.ptr));
        }
        // A busy container keeps epoll_wait from timing out: the backlog is retried after
        // each batch too (one failed sendmsg while journald is still away).
        if (journal_.retry_in_ms() >= 0)
            journal_.flush();
        journal_pending_.store(journal_.retry_in_ms() >= 0);
    }
}

void LogPump::drain(Pipe& pipe)
{
    char buf[65536];
    const ssize_t n = ::read(pipe.fd.get(), buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    const bool eof = n <= 0;
    // A log that cannot be written (disk full) loses lines but never stalls the container.
    (void)drain_lines(*pipe.log, pipe.stream, pipe.pending,
                      std::string_view(buf, n > 0 ? static_cast<std::size_t>(n) : 0), eof);
    if (eof) {
        const int key = pipe.fd.get();
        (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, key, nullptr);
        // Before the pipe goes: idle() must not see neither the pipe nor its last lines' backlog.
        journal_pending_.store(journal_.retry_in_ms() >= 0);
        const std::lock_guard lock(mutex_);
        pipes_.erase(key); // pipe is gone from here on
    }
}

} // namespace berth::runtime
