// base/journal_native.cpp — see journal_native.hpp. The memfd fallback follows libsystemd's
// journal-send.c: journald accepts a passed memfd only when it is sealed against change.
#include "base/journal_native.hpp"
#include <fcntl.h>
#include <sys/mman.h>
#include <cerrno>
#include <cstdint>
#include "base/files.hpp"
#include "base/unix_datagram.hpp"

namespace berth::journal {
namespace {

constexpr std::size_t max_name = 64; // journald's limit (journal_field_valid)

bool valid_name(std::string_view name)
{
    if (name.empty() || name.size() > max_name || name.front() == '_' ||
        (name.front() >= '0' && name.front() <= '9'))
        return false;
    for (const char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

void append_le64(std::string& out, std::uint64_t value)
{
    for (int i = 0; i < 8; ++i)
        out += static_cast<char>((value >> (8 * i)) & 0xffU);
}

} // namespace

Result<std::string> serialize(std::span<const std::string_view> fields)
{
    std::string out;
    for (const auto field : fields) {
        const auto eq = field.find('=');
        if (eq == std::string_view::npos)
            return Error::invalid("journal field has no '=': ", quoted(field.substr(0, max_name)));
        const auto name = field.substr(0, eq);
        if (!valid_name(name))
            return Error::invalid("journal field name is not [A-Z0-9_] up to 64 bytes, or starts "
                                  "with '_' or a digit: ",
                                  quoted(name.substr(0, max_name)));
        const auto value = field.substr(eq + 1);
        if (value.find('\n') == std::string_view::npos) {
            out += field;
        } else {
            out += name;
            out += '\n';
            append_le64(out, value.size());
            out += value;
        }
        out += '\n';
    }
    return out;
}

Result<JournalWriter> JournalWriter::open(std::string_view socket_path)
{
    auto address = unix_address(socket_path);
    if (!address)
        return std::move(address).error().wrap("journal socket");
    auto socket = unix_datagram_socket();
    if (!socket)
        return std::move(socket).error();
    return JournalWriter(std::move(*socket), *address, std::string(socket_path));
}

Result<void> JournalWriter::send(std::span<const std::string_view> fields) const
{
    auto entry = serialize(fields);
    if (!entry)
        return std::move(entry).error();
    auto sent = send_datagram(socket_.get(), address_, *entry);
    if (sent)
        return {};
    // Larger than a datagram may be (the send buffer), or no room in it right now.
    if (sent.error().code != EMSGSIZE && sent.error().code != ENOBUFS)
        return std::move(sent).error().wrap(cat("journal entry to ", path_));
    return send_memfd(*entry);
}

Result<void> JournalWriter::send_memfd(std::string_view entry) const
{
    Fd memfd(::memfd_create("journal-entry", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!memfd.valid())
        return Error::from_errno("memfd_create for a large journal entry");
    if (auto w = write_all(memfd.get(), entry); !w)
        return std::move(w).error().wrap("large journal entry into its memfd");
    if (::fcntl(memfd.get(), F_ADD_SEALS,
                F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
        return Error::from_errno("seal the memfd of a large journal entry");
    if (auto sent = send_datagram(socket_.get(), address_, {}, memfd.get()); !sent)
        return std::move(sent).error().wrap(cat("large journal entry (memfd) to ", path_));
    return {};
}

} // namespace berth::journal
