// image/digest.cpp — sha256 through OpenSSL's EVP interface (uses SHA-NI/AVX2 where present).
#include "image/digest.hpp"
#include <cstdlib>
#include <openssl/evp.h>

namespace berth::image {

void Sha256::Free::operator()(evp_md_ctx_st* ctx) const
{
    EVP_MD_CTX_free(ctx);
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new())
{
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
        std::abort(); // only out of memory gets here: an invariant, not an input error
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, std::size_t size)
{
    EVP_DigestUpdate(ctx_.get(), data, size);
}

std::string Sha256::digest()
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &len);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 0xf];
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
