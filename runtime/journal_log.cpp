// runtime/journal_log.cpp — the journald log driver: entries in journald's native protocol, one
// non-blocking datagram each, a bounded backlog (journal_log.hpp). Runs as root on the host, in
// berth-supervisor's log pump thread.
#include "runtime/journal_log.hpp"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include "base/files.hpp"
#include "base/journal_native.hpp"
#include "base/strings.hpp"

namespace berth::runtime {
namespace {

// Retry delays: journald's queue full (EAGAIN: it is alive and reading; its datagram queue is
// net.unix.max_dgram_qlen entries, 512 under systemd, 10 by the kernel's default), or journald
// away (no socket, refused), backed off up to 2 s. A queue that stays full (journald stalled:
// under systemd its socket stays open, so that is EAGAIN forever) is backed off too, from 2 ms up
// to 100 ms, so a stalled journald is not polled 500 times a second by every supervisor.
constexpr int busy_retry_ms = 2, busy_max_retry_ms = 100, min_retry_ms = 10, max_retry_ms = 2000;
constexpr int journal_sndbuf = 8 * 1024 * 1024; // as libsystemd's sd-journal asks

std::string random_hex_id()
{
    unsigned char bytes[16] = {};
    // A partial line's id only has to differ from other lines' ids: a short read keeps zeros.
    (void)!::getrandom(bytes, sizeof bytes, GRND_NONBLOCK);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(32);
    for (const unsigned char b : bytes) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

bool transient(int err)
{
    // Queue full; journald absent or restarting (its socket missing or not listening).
    return err == EAGAIN || err == ENOBUFS || err == ENOENT || err == ECONNREFUSED;
}

} // namespace

// Encodes fields with base's serializer (bad ones are the caller's to have refused).
static std::string encoded(std::span<const std::string_view> fields)
{
    auto out = journal::serialize(fields);
    return out ? std::move(*out) : std::string();
}

Result<void> valid_journal_fields(std::span<const std::string> fields)
{
    for (const auto& f : fields) {
        const std::string_view one[] = {f};
        if (auto r = journal::serialize(one); !r)
            return std::move(r).error();
    }
    return {};
}

JournalSender::JournalSender(std::string socket_path, std::size_t backlog_bytes)
    : path_(std::move(socket_path)), max_backlog_(backlog_bytes)
{
}

JournalSender::Sent JournalSender::try_send(const std::string& entry)
{
    if (!socket_.valid()) {
        auto address = unix_address(path_);
        if (!address)
            return Sent::Never;
        address_ = *address;
        socket_ = Fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (!socket_.valid()) {
            last_errno_ = errno; // EMFILE and the like: the backlog rides it out, backing off
            return Sent::Later;
        }
        (void)::setsockopt(socket_.get(), SOL_SOCKET, SO_SNDBUF, &journal_sndbuf,
                           sizeof journal_sndbuf);
    }
    auto sent = send_datagram(socket_.get(), address_, entry);
    if (sent)
        return Sent::Yes;
    last_errno_ = sent.error().code;
    if (sent.error().code == EMSGSIZE)
        return send_memfd(entry);
    return transient(sent.error().code) ? Sent::Later : Sent::Never;
}

// An entry bigger than a datagram: a sealed memfd holding it, passed with SCM_RIGHTS and no
// payload (what journald takes as "the entry is in this file").
JournalSender::Sent JournalSender::send_memfd(const std::string& entry)
{
    // Short of memory or descriptors: later; anything else (ENOSYS, EPERM under a seccomp
    // filter, ...) will not change, and the entry must not hold the backlog's head for good.
    const auto failed = [this](int err) {
        last_errno_ = err;
        return err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOSPC ? Sent::Later
                                                                                : Sent::Never;
    };
    Fd memfd(::memfd_create("journal-entry", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!memfd.valid())
        return failed(errno);
    if (auto written = write_all(memfd.get(), entry); !written)
        return failed(written.error().code);
    if (::fcntl(memfd.get(), F_ADD_SEALS,
                F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
        return failed(errno);
    auto sent = send_datagram(socket_.get(), address_, {}, memfd.get());
    if (sent)
        return Sent::Yes;
    last_errno_ = sent.error().code;
    return transient(sent.error().code) ? Sent::Later : Sent::Never;
}

void JournalSender::count_drop(const std::string& fixed)
{
    ++drops_[fixed];
}

void JournalSender::report_drops()
{
    auto drops = std::move(drops_);
    drops_.clear();
    for (const auto& [fixed, lost] : drops) {
        const auto message = cat("MESSAGE=berth-supervisor: ", lost,
                                 " log lines of this container were dropped: journald was "
                                 "unavailable or too slow");
        const auto count = cat("BERTH_DROPPED_LINES=", lost);
        const std::string_view fields[] = {message, "PRIORITY=4", count};
        std::string notice = fixed + encoded(fields);
        const auto sent = try_send(notice);
        if (sent == Sent::Yes)
            continue;
        if (sent == Sent::Later && backlog_bytes_ + notice.size() <= max_backlog_) {
            backlog_bytes_ += notice.size(); // retried with the backlog
            backlog_.push_back({std::move(notice), 0});
        } else {
            drops_[fixed] += lost; // reported next time
        }
    }
}

bool JournalSender::send(std::string entry, std::size_t fixed_bytes)
{
    if (backlog_.empty()) { // else queued behind the backlog, to keep the order
        const auto sent = try_send(entry);
        if (sent == Sent::Yes && !drops_.empty())
            report_drops();
        if (sent == Sent::Yes)
            return true;
        if (sent == Sent::Never)
            return false;
    }
    if (backlog_bytes_ + entry.size() > max_backlog_)
        return false;
    backlog_bytes_ += entry.size();
    backlog_.push_back({std::move(entry), fixed_bytes});
    return true;
}

void JournalSender::flush()
{
    while (!backlog_.empty()) {
        auto& front = backlog_.front();
        const auto sent = try_send(front.entry);
        if (sent == Sent::Later) {
            // After a success retry_ms_ is min_retry_ms: a first EAGAIN starts at busy_retry_ms.
            retry_ms_ = last_errno_ == EAGAIN
                            ? std::clamp(retry_ms_ == min_retry_ms ? busy_retry_ms : retry_ms_ * 2,
                                         busy_retry_ms, busy_max_retry_ms)
                            : std::clamp(retry_ms_ * 2, min_retry_ms, max_retry_ms);
            return;
        }
        // Sent, or never sendable (journald refuses it): either way it leaves the backlog, and a
        // refused line is counted as its container's drop.
        if (sent == Sent::Never && front.fixed_bytes > 0)
            count_drop(front.entry.substr(0, front.fixed_bytes));
        backlog_bytes_ -= front.entry.size();
        backlog_.pop_front();
    }
    retry_ms_ = min_retry_ms;
    std::deque<Queued>().swap(backlog_); // give the memory back while idle
    if (!drops_.empty())
        report_drops();
}

JournalLog::JournalLog(JournalSender& sender, const std::vector<std::string>& fields)
    : sender_(sender)
{
    for (const auto& f : fields) {
        const std::string_view one[] = {f};
        if (auto e = journal::serialize(one))
            fixed_ += *e;
    }
}

std::string JournalLog::encode(std::string_view stream, std::string_view text, bool more)
{
    const bool err = stream == "stderr";
    const bool whole = !text.empty() && text.back() == '\n';
    const auto message = cat("MESSAGE=", whole ? text.substr(0, text.size() - 1) : text);
    std::vector<std::string> partial_fields;
    auto& partial = partial_[err ? 1 : 0];
    if (more || !partial.id.empty()) { // a piece of a split line
        if (partial.id.empty())
            partial.id = random_hex_id();
        ++partial.ordinal;
        partial_fields = {cat("CONTAINER_PARTIAL_ID=", partial.id),
                          cat("CONTAINER_PARTIAL_ORDINAL=", partial.ordinal),
                          cat("CONTAINER_PARTIAL_LAST=", more ? "false" : "true")};
        if (more)
            partial_fields.emplace_back("CONTAINER_PARTIAL_MESSAGE=true");
        else
            partial = Partial{};
    }
    std::vector<std::string_view> fields = {message, err ? "PRIORITY=3" : "PRIORITY=6"};
    fields.insert(fields.end(), partial_fields.begin(), partial_fields.end());
    return fixed_ + encoded(fields);
}

Result<void> JournalLog::write(std::string_view stream, std::string_view text, bool more)
{
    if (sender_.send(encode(stream, text, more), fixed_.size()))
        return {};
    ++dropped_;
    sender_.count_drop(fixed_);
    return Error::with_code(EAGAIN, "journald: log line dropped");
}

} // namespace berth::runtime
