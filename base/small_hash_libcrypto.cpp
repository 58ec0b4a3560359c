// base/small_hash_libcrypto.cpp — small digests from libcrypto, where the kernel cannot give
// them (small_hash.cpp). SHA256_Init/Update/Final, not EVP: EVP's first use initialises OpenSSL
// 3's configuration and providers, 2 MB of berthd's RSS for good (docs/BENCHMARKS.md, berthd's
// memory); these deprecated functions run the same assembly and are in every OpenSSL 3.x. In
// berthd they are agent/berthd/crypto_dl.cpp's forwarders, which load libcrypto at the first call.
// HMAC is RFC 2104's construction on them, as SigV4 had it (OpenSSL's HMAC() goes through EVP).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <algorithm>
#include <cstdlib>
#include "base/small_hash.hpp"

namespace berth::small_hash {

Digest libcrypto_sha256(Pieces message)
{
    SHA256_CTX ctx;
    // They fail only for a null context: an invariant, not an input error. A digest is never
    // returned unless all three succeeded.
    if (SHA256_Init(&ctx) != 1)
        std::abort();
    for (const auto piece : message)
        if (SHA256_Update(&ctx, piece.data(), piece.size()) != 1)
            std::abort();
    Digest digest{};
    if (SHA256_Final(digest.data(), &ctx) != 1)
        std::abort();
    return digest;
}

Digest libcrypto_hmac_sha256(std::string_view key, Pieces message)
{
    constexpr std::size_t block = 64; // SHA-256's block size
    std::array<char, block> inner{}, outer{};
    const Digest hashed_key = key.size() > block ? libcrypto_sha256({key}) : Digest{};
    if (key.size() > block)
        key = bytes(hashed_key);
    std::copy(key.begin(), key.end(), inner.begin());
    outer = inner;
    for (std::size_t i = 0; i < block; ++i) {
        inner.at(i) = static_cast<char>(inner.at(i) ^ 0x36);
        outer.at(i) = static_cast<char>(outer.at(i) ^ 0x5c);
    }
    SHA256_CTX ctx;
    if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, inner.data(), block) != 1)
        std::abort();
    for (const auto piece : message)
        if (SHA256_Update(&ctx, piece.data(), piece.size()) != 1)
            std::abort();
    Digest inner_hash{};
    if (SHA256_Final(inner_hash.data(), &ctx) != 1)
        std::abort();
    return libcrypto_sha256({{outer.data(), block}, bytes(inner_hash)});
}

} // namespace berth::small_hash
