// image/digest.cpp — sha256 through OpenSSL's SHA256_Init/Update/Final: the same assembly as the
// EVP interface (SHA-NI/AVX2 where present, chosen by libcrypto's CPU probe at load), without the
// EVP fetch. Why not EVP: its first use initialises OpenSSL 3's configuration and providers, which
// cost berthd about 2 MB of RSS at its first task, where all it hashes is an image name
// (Store::find's record file; docs/BENCHMARKS.md, berthd's memory). These functions are deprecated
// in OpenSSL 3 in favour of EVP but present in every 3.x.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "image/digest.hpp"
#include <openssl/sha.h>
#include <cstdlib>

namespace berth::image {

void Sha256::Free::operator()(SHA256state_st* ctx) const
{
    delete ctx; // NOLINT(cppcoreguidelines-owning-memory): owned by the unique_ptr
}

Sha256::Sha256() : ctx_(new SHA256_CTX{})
{
    if (SHA256_Init(ctx_.get()) != 1)
        std::abort(); // cannot fail for SHA256_CTX: an invariant, not an input error
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, std::size_t size)
{
    SHA256_Update(ctx_.get(), data, size);
}

std::string Sha256::digest()
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256_Final(md, ctx_.get());
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (const unsigned char byte : md) {
        out += hex[byte >> 4];
        out += hex[byte & 0xf];
    }
    return out;
}

std::string sha256_digest(std::string_view bytes)
{
    Sha256 h;
    h.update(bytes);
    return h.digest();
}

} // namespace berth::image
