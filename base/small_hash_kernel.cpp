// base/small_hash_kernel.cpp — digests from the kernel's crypto API (AF_ALG, algif_hash): bind a
// transform socket to an algorithm ("sha256", "hmac(sha256)"), set the key on it for HMAC,
// accept() one operation socket per digest, send the message, read the digest.
// Why every failure ends the digest instead of going on: after a failed or short send, algif_hash
// forgets what it had hashed so far (its "more" flag is cleared), so a retry on the same socket
// would silently hash only the rest. An interrupted digest (EINTR) is therefore restarted whole on
// a new operation socket; any other failure is returned, and small_hash.cpp takes libmd's
// digest instead. Every socket is close-on-exec: berthd starts children.
#include <linux/if_alg.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include "base/fd.hpp"
#include "base/small_hash.hpp"

namespace berth::small_hash {
namespace {

constexpr int attempts = 4;                 // EINTR restarts: bounded
constexpr std::size_t pieces_per_send = 16; // well under IOV_MAX
constexpr std::string_view sha256_name = "sha256";

template <class... Parts>
Error failed(std::string_view algorithm, const Parts&... what)
{
    return Error::from_errno("AF_ALG hash '", algorithm, "': ", what...);
}

Result<Fd> bind_transform(std::string_view algorithm)
{
    sockaddr_alg address{};
    if (algorithm.empty())
        return Error::invalid("AF_ALG hash: no algorithm name");
    if (algorithm.size() >= sizeof address.salg_name)
        return Error::with_code(ENAMETOOLONG, "AF_ALG hash '", algorithm,
                                "': the name must be 1 to ", sizeof address.salg_name - 1,
                                " bytes");
    address.salg_family = AF_ALG;
    constexpr std::string_view type = "hash";
    std::copy(type.begin(), type.end(), std::begin(address.salg_type));
    std::copy(algorithm.begin(), algorithm.end(), std::begin(address.salg_name));
    Fd transform(::socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!transform.valid())
        return failed(algorithm, "socket");
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockaddr ABI
    if (::bind(transform.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0)
        return failed(algorithm, "bind (is algif_hash loadable, the algorithm known?)");
    return transform;
}

// The bound unkeyed "sha256" transform, made once and kept open for the process's life: each
// accept() on it gets its own request state, so threads share it (algif_hash locks each socket).
// HMAC transforms are not kept: the key belongs to the transform, and SigV4 changes it per call.
// A failure is not remembered here: small_hash.cpp decides what it means.
Result<int> sha256_transform()
{
    static std::mutex mutex;
    static int kept = -1; // never closed: close-on-exec, one per process
    const std::lock_guard lock(mutex);
    if (kept < 0) {
        auto transform = bind_transform(sha256_name);
        if (!transform)
            return std::move(transform).error();
        kept = transform->release();
    }
    return kept;
}

// Sends the whole message on op: pieces in batches, MSG_MORE on all but the last batch, whose
// send finalises the digest. An empty message is one empty send without MSG_MORE, which makes
// algif_hash initialise and finalise (reading without any send is wrong on old kernels).
Result<void> send_message(int op, std::string_view algorithm, Pieces message)
{
    auto next = message.begin();
    do {
        std::array<iovec, pieces_per_send> iov{};
        std::size_t count = 0, total = 0;
        for (; next != message.end() && count < iov.size(); ++next) {
            if (next->empty())
                continue;
            // sendmsg reads through iov_base, never writes: the const_cast is the C ABI's
            iov.at(count++) = {const_cast<char*>(next->data()), next->size()};
            total += next->size();
        }
        const bool last = next == message.end();
        msghdr header{};
        header.msg_iov = iov.data();
        header.msg_iovlen = count;
        const auto sent = ::sendmsg(op, &header, (last ? 0 : MSG_MORE) | MSG_NOSIGNAL);
        if (sent < 0)
            return failed(algorithm, "send");
        if (static_cast<std::size_t>(sent) != total)
            return Error::with_code(EMSGSIZE, "AF_ALG hash '", algorithm, "': send took ", sent,
                                    " of ", total, " bytes");
    } while (next != message.end());
    return {};
}

Result<Digest> digest_once(int transform, std::string_view algorithm, Pieces message)
{
    Fd op(::accept4(transform, nullptr, nullptr, SOCK_CLOEXEC));
    if (!op.valid())
        return failed(algorithm, "accept");
    if (auto sent = send_message(op.get(), algorithm, message); !sent)
        return std::move(sent).error();
    Digest digest{};
    const auto got = ::read(op.get(), digest.data(), digest.size());
    if (got < 0)
        return failed(algorithm, "read the digest");
    if (static_cast<std::size_t>(got) != digest.size())
        return Error::with_code(EIO, "AF_ALG hash '", algorithm, "': the digest is ", got,
                                " bytes, not ", digest.size());
    return digest;
}

Result<Fd> keyed_transform(std::string_view algorithm, std::string_view key)
{
    auto transform = bind_transform(algorithm);
    if (!transform)
        return transform;
    static constexpr char none = 0; // an empty key still needs a valid pointer
    const char* bytes = key.empty() ? &none : key.data();
    if (::setsockopt(transform->get(), SOL_ALG, ALG_SET_KEY, bytes,
                     static_cast<socklen_t>(key.size())) < 0)
        return failed(algorithm, "set a key of ", key.size(), " bytes");
    return transform;
}

} // namespace

Result<Digest> kernel_digest(std::string_view algorithm, const std::string_view* key,
                             Pieces message)
{
    Fd owned; // a keyed or unusual transform, closed after this digest
    int transform = -1;
    if (key == nullptr && algorithm == sha256_name) {
        auto kept = sha256_transform();
        if (!kept)
            return std::move(kept).error();
        transform = *kept;
    } else {
        auto made = key != nullptr ? keyed_transform(algorithm, *key) : bind_transform(algorithm);
        if (!made)
            return std::move(made).error();
        owned = std::move(*made);
        transform = owned.get();
    }
    for (int attempt = 1;; ++attempt) {
        auto digest = digest_once(transform, algorithm, message);
        if (digest || digest.error().code != EINTR || attempt == attempts)
            return digest;
    }
}

Result<Digest> kernel_sha256(Pieces message)
{
    return kernel_digest(sha256_name, nullptr, message);
}

Result<Digest> kernel_hmac_sha256(std::string_view key, Pieces message)
{
    return kernel_digest("hmac(sha256)", &key, message);
}

bool kernel_unavailable(int code)
{
    switch (code) {
    case EAFNOSUPPORT: // a kernel without AF_ALG, or a filter (systemd's RestrictAddressFamilies)
    case EPROTONOSUPPORT: // no SOCK_SEQPACKET hash sockets
    case ENOENT:          // no such algorithm; algif_hash absent and not loadable
    case EPERM:           // a seccomp filter or an LSM
    case EACCES:
    case ENOSYS: return true; // a seccomp filter answering ENOSYS
    default: return false;
    }
}

} // namespace berth::small_hash
