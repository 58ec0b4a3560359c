// base/small_hash.cpp — which implementation computes a small digest: the kernel's (AF_ALG,
// small_hash_kernel.cpp) until it says it cannot serve here, then libmd's
// (small_hash_libmd.cpp) for the rest of the process's life. A failure of the kernel path
// that does not say so (EMFILE, ENOMEM, EINTR every time) takes libmd's digest for that call
// only. Either way the caller gets the right digest, never an error, zeros or a partial one.
// Libraries log at debug only: the switch is logged there, once.
#include <atomic>
#include <optional>
#include "base/log.hpp"
#include "base/small_hash.hpp"

namespace berth::small_hash {
namespace {

std::atomic<bool> libmd_only{false};

// The kernel's digest, or nothing when libmd must give it (and from now on, if the kernel
// said it never will).
std::optional<Digest> from_kernel(const Result<Digest>& digest)
{
    if (digest)
        return *digest;
    if (!kernel_unavailable(digest.error().code))
        log::debug("small hash through libmd this time", {{"ERROR", digest.error().message()}});
    else if (!libmd_only.exchange(true)) // logged once, by whichever thread switched
        log::debug("small hashes through libmd from now on: the kernel cannot serve them",
                   {{"ERROR", digest.error().message()}});
    return std::nullopt;
}

} // namespace

Digest sha256(Pieces message)
{
    if (!libmd_only.load(std::memory_order_relaxed))
        if (auto digest = from_kernel(kernel_sha256(message)))
            return *digest;
    return libmd_sha256(message);
}

Digest hmac_sha256(std::string_view key, Pieces message)
{
    if (!libmd_only.load(std::memory_order_relaxed))
        if (auto digest = from_kernel(kernel_hmac_sha256(key, message)))
            return *digest;
    return libmd_hmac_sha256(key, message);
}

Backend backend()
{
    return libmd_only.load() ? Backend::Libmd : Backend::Kernel;
}

void use_libmd()
{
    libmd_only.store(true);
}

std::string hex(const Digest& digest)
{
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    out.reserve(2 * digest.size());
    for (const unsigned char byte : digest) {
        out += digits[byte >> 4U];
        out += digits[byte & 0xfU];
    }
    return out;
}

std::string_view bytes(const Digest& digest)
{
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): unsigned char to char, same
    // bytes
    return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

} // namespace berth::small_hash
