// base/small_hash_libmd.cpp — small digests from libmd, where the kernel cannot give them
// (small_hash.cpp). libmd is the BSD message-digest library Debian's dpkg depends on, so every
// host has it; linked statically here, its SHA-256 costs berthd a few kB, where libcrypto, loaded
// for three small hashes, cost 1.6 MB of RSS for good (docs/BENCHMARKS.md, "Memory, fifth
// round"). HMAC is RFC 2104's construction on it, as SigV4 had it on OpenSSL's SHA256_*.
#include <sha2.h>
#include <algorithm>
#include <cstdint>
#include "base/small_hash.hpp"

namespace berth::small_hash {
namespace {

static_assert(SHA256_DIGEST_LENGTH == std::tuple_size_v<Digest>);

void update(SHA2_CTX& ctx, std::string_view piece)
{
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): char to uint8_t, same bytes
    SHA256Update(&ctx, reinterpret_cast<const std::uint8_t*>(piece.data()), piece.size());
}

} // namespace

Digest libmd_sha256(Pieces message)
{
    SHA2_CTX ctx;
    SHA256Init(&ctx);
    for (const auto piece : message)
        update(ctx, piece);
    Digest digest{};
    SHA256Final(digest.data(), &ctx);
    return digest;
}

Digest libmd_hmac_sha256(std::string_view key, Pieces message)
{
    constexpr std::size_t block = 64; // SHA-256's block size
    std::array<char, block> inner{}, outer{};
    const Digest hashed_key = key.size() > block ? libmd_sha256({key}) : Digest{};
    if (key.size() > block)
        key = bytes(hashed_key);
    std::copy(key.begin(), key.end(), inner.begin());
    outer = inner;
    for (std::size_t i = 0; i < block; ++i) {
        inner.at(i) = static_cast<char>(inner.at(i) ^ 0x36);
        outer.at(i) = static_cast<char>(outer.at(i) ^ 0x5c);
    }
    SHA2_CTX ctx;
    SHA256Init(&ctx);
    update(ctx, {inner.data(), block});
    for (const auto piece : message)
        update(ctx, piece);
    Digest inner_hash{};
    SHA256Final(inner_hash.data(), &ctx);
    return libmd_sha256({{outer.data(), block}, bytes(inner_hash)});
}

} // namespace berth::small_hash
