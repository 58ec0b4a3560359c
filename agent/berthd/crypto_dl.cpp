// agent/berthd/crypto_dl.cpp — libcrypto is loaded (dlopen) by the first call into it: the first
// pull or archive load (layer digests), not when berthd starts. The small digests of SigV4, the
// metadata ids and the image names never come here: the kernel (AF_ALG) or libmd gives them
// (base/small_hash.hpp). Why: linked normally, libcrypto.so.3's relocations and constructors
// cost berthd about 1.4 MB of RSS from its first instant, and an idle node hashes nothing
// (docs/BENCHMARKS.md, "Memory"). As
// image/curl_dl.cpp does for libcurl, this file defines the OpenSSL functions berthd's libraries
// call (agent/api, image/), with OpenSSL's own names and signatures, and forwards each to the real
// one; the callers are unchanged, and berthd is linked without libcrypto (--as-needed drops it).
// Other binaries (the berth CLI, tests) link libcrypto itself. If libcrypto cannot be loaded the
// error is logged (ENOPKG, naming the library and its package) and berthd aborts: its callers
// (image/'s layer and blob digests) cannot do without the digest, and a hash that silently came
// out as zeros would let altered content pass. Failing closed by ending the process is the one
// safe answer; systemd restarts berthd and its containers keep running under berth-supervisor.
// CRYPTO_memcmp is a constant-time compare written here: it needs no library.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <cstdlib>
#include <mutex>
#include "base/dl.hpp"
#include "base/log.hpp"

namespace {

constexpr const char* soname = "libcrypto.so.3"; // Debian 12's libssl3, as linked before

struct Api {
    decltype(&::SHA256_Init) sha256_init = nullptr;
    decltype(&::SHA256_Update) sha256_update = nullptr;
    decltype(&::SHA256_Final) sha256_final = nullptr;
    decltype(&::EVP_sha256) evp_sha256 = nullptr;
    decltype(&::HMAC) hmac = nullptr;
};

berth::Result<void> bind_all(void* l, Api& a)
{
    for (auto r : {berth::bind_symbol(l, soname, "SHA256_Init", a.sha256_init),
                   berth::bind_symbol(l, soname, "SHA256_Update", a.sha256_update),
                   berth::bind_symbol(l, soname, "SHA256_Final", a.sha256_final),
                   berth::bind_symbol(l, soname, "EVP_sha256", a.evp_sha256),
                   berth::bind_symbol(l, soname, "HMAC", a.hmac)})
        if (!r)
            return r;
    return {};
}

// The loaded library. Never unloaded. Aborts when it cannot be loaded (see the top), so every
// caller below has it.
const Api& api()
{
    static Api loaded{};
    static std::once_flag once;
    std::call_once(once, [] {
        auto library = berth::load_library(soname, "libssl3");
        auto bound = library ? bind_all(*library, loaded) : berth::Result<void>(library.error());
        if (!bound) {
            berth::log::error(bound.error(),
                              "cannot use OpenSSL for SHA-256 and HMAC: berthd stops");
            std::abort();
        }
    });
    return loaded;
}

} // namespace

extern "C" {

int SHA256_Init(SHA256_CTX* c)
{
    return api().sha256_init(c);
}

int SHA256_Update(SHA256_CTX* c, const void* data, size_t len)
{
    return api().sha256_update(c, data, len);
}

int SHA256_Final(unsigned char* md, SHA256_CTX* c)
{
    return api().sha256_final(md, c);
}

const EVP_MD* EVP_sha256()
{
    return api().evp_sha256();
}

unsigned char* HMAC(const EVP_MD* evp_md, const void* key, int key_len, const unsigned char* data,
                    size_t data_len, unsigned char* md, unsigned int* md_len)
{
    return api().hmac(evp_md, key, key_len, data, data_len, md, md_len);
}

// Constant time in len: every byte is compared whatever the earlier ones were.
int CRYPTO_memcmp(const void* in_a, const void* in_b, size_t len)
{
    const auto* a = static_cast<const volatile unsigned char*>(in_a);
    const auto* b = static_cast<const volatile unsigned char*>(in_b);
    unsigned char x = 0;
    for (size_t i = 0; i < len; ++i)
        x |= a[i] ^ b[i]; // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    return x;
}

} // extern "C"
