// runtime/journal_log.cpp — the journald log driver: entries in journald's native protocol, one
// non-blocking datagram each, a bounded backlog (journal_log.hpp). Runs as root on the host, in
// berth-supervisor's log pump thread.
#include "runtime/journal_log.hpp"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include "base/files.hpp"
#include "base/strings.hpp"

namespace berth::runtime {
namespace {

constexpr int min_retry_ms = 10, max_retry_ms = 2000;
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

bool valid_journal_field_name(std::string_view name)
{
    if (name.empty() || name.size() > 64 || name.front() == '_' ||
        (name.front() >= '0' && name.front() <= '9'))
        return false;
    for (const char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

void append_journal_field(std::string& entry, std::string_view name, std::string_view value)
{
    entry.append(name);
    if (value.find('\n') == std::string_view::npos) {
        entry += '=';
        entry.append(value);
        entry += '\n';
        return;
    }
    entry += '\n';
    std::uint64_t size = value.size();
    for (int i = 0; i < 8; ++i, size >>= 8) // little endian, whatever the host
        entry += static_cast<char>(size & 0xff);
    entry.append(value);
    entry += '\n';
}

Result<void> valid_journal_fields(std::span<const std::string> fields)
{
    for (const auto& f : fields) {
        const auto eq = f.find('=');
        if (eq == std::string::npos)
            return Error::invalid("journal field ", berth::quoted(f), ": no '='");
        if (!valid_journal_field_name(std::string_view(f).substr(0, eq)))
            return Error::invalid("journal field ", berth::quoted(f.substr(0, eq)),
                                  ": not a name journald accepts ([A-Z0-9_], at most 64, "
                                  "not starting with '_' or a digit)");
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
        socket_ = Fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (!socket_.valid())
            return Sent::Later; // EMFILE and the like: the backlog rides it out
        (void)::setsockopt(socket_.get(), SOL_SOCKET, SO_SNDBUF, &journal_sndbuf,
                           sizeof journal_sndbuf);
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.data(), std::min(path_.size(), sizeof addr.sun_path - 1));
    msghdr msg{};
    iovec iov{const_cast<char*>(entry.data()), entry.size()}; // NOLINT: iovec is not const
    msg.msg_name = &addr;
    msg.msg_namelen = sizeof addr;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (::sendmsg(socket_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
        return Sent::Yes;
    if (errno == EMSGSIZE)
        return send_memfd(entry);
    return transient(errno) ? Sent::Later : Sent::Never;
}

// An entry bigger than a datagram: a sealed memfd holding it, passed with SCM_RIGHTS and no
// payload (what journald takes as "the entry is in this file").
JournalSender::Sent JournalSender::send_memfd(const std::string& entry)
{
    Fd memfd(::memfd_create("journal-entry", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!memfd.valid())
        return Sent::Later;
    if (!write_all(memfd.get(), entry) ||
        ::fcntl(memfd.get(), F_ADD_SEALS,
                F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
        return Sent::Later;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.data(), std::min(path_.size(), sizeof addr.sun_path - 1));
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_name = &addr;
    msg.msg_namelen = sizeof addr;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    const int fd = memfd.get();
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
    if (::sendmsg(socket_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
        return Sent::Yes;
    return transient(errno) ? Sent::Later : Sent::Never;
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
        std::string notice = fixed;
        append_journal_field(notice, "MESSAGE",
                             cat("berth-supervisor: ", lost,
                                 " log lines of this container were dropped: journald was "
                                 "unavailable or too slow"));
        append_journal_field(notice, "PRIORITY", "4");
        append_journal_field(notice, "BERTH_DROPPED_LINES", std::to_string(lost));
        if (try_send(notice) != Sent::Later)
            continue;
        if (backlog_bytes_ + notice.size() <= max_backlog_) { // retried with the backlog
            backlog_bytes_ += notice.size();
            backlog_.push_back(std::move(notice));
        } else {
            drops_[fixed] += lost; // reported next time
        }
    }
}

bool JournalSender::send(std::string entry)
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
    backlog_.push_back(std::move(entry));
    return true;
}

void JournalSender::flush()
{
    while (!backlog_.empty()) {
        const auto sent = try_send(backlog_.front());
        if (sent == Sent::Later) {
            retry_ms_ = std::min(retry_ms_ * 2, max_retry_ms);
            return;
        }
        // Sent, or never sendable (journald refuses it): either way it leaves the backlog.
        backlog_bytes_ -= backlog_.front().size();
        backlog_.pop_front();
    }
    retry_ms_ = min_retry_ms;
    std::deque<std::string>().swap(backlog_); // give the memory back while idle
    if (!drops_.empty())
        report_drops();
}

JournalLog::JournalLog(JournalSender& sender, std::vector<std::string> fields) : sender_(sender)
{
    for (const auto& f : fields) {
        const auto eq = f.find('=');
        if (eq != std::string::npos && valid_journal_field_name(std::string_view(f).substr(0, eq)))
            append_journal_field(fixed_, std::string_view(f).substr(0, eq),
                                 std::string_view(f).substr(eq + 1));
    }
}

std::string JournalLog::encode(std::string_view stream, std::string_view text, bool more)
{
    const bool err = stream == "stderr";
    std::string entry = fixed_;
    const bool whole = !text.empty() && text.back() == '\n';
    append_journal_field(entry, "MESSAGE", whole ? text.substr(0, text.size() - 1) : text);
    append_journal_field(entry, "PRIORITY", err ? "3" : "6");
    auto& partial = partial_[err ? 1 : 0];
    if (more || !partial.id.empty()) { // a piece of a split line
        if (partial.id.empty())
            partial.id = random_hex_id();
        ++partial.ordinal;
        append_journal_field(entry, "CONTAINER_PARTIAL_ID", partial.id);
        append_journal_field(entry, "CONTAINER_PARTIAL_ORDINAL", std::to_string(partial.ordinal));
        append_journal_field(entry, "CONTAINER_PARTIAL_LAST", more ? "false" : "true");
        if (more)
            append_journal_field(entry, "CONTAINER_PARTIAL_MESSAGE", "true");
        else
            partial = Partial{};
    }
    return entry;
}

Result<void> JournalLog::write(std::string_view stream, std::string_view text, bool more)
{
    if (sender_.send(encode(stream, text, more)))
        return {};
    ++dropped_;
    sender_.count_drop(fixed_);
    return Error::with_code(EAGAIN, "journald: log line dropped");
}

} // namespace berth::runtime
