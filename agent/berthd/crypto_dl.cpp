// agent/berthd/crypto_dl.cpp — libcrypto is loaded (dlopen) only for what needs it: bulk hashing
// (a pull's layers) and HMAC(EVP_sha256()), not when berthd starts, and not for the small hashes
// every task makes (an image name's record file, a container's metadata id, a SigV4 request's
// canonical request and HMAC). Why: linked normally, libcrypto.so.3's relocations and
// constructors cost berthd about 1.4 MB of RSS from its first instant, and once loaded it stays
// (the library is NODELETE): a node that had run a task from a loaded image kept 1.6 MB of it
// when idle again (docs/BENCHMARKS.md, "Memory" and "Memory, fourth round"). So SHA-256 itself is
// written here (FIPS 180-4), on OpenSSL's own SHA256_CTX with OpenSSL's bookkeeping (bit count,
// buffered bytes), so that a context can go on in OpenSSL's assembly mid-stream: once a context
// has hashed 64 KiB or is given that much at once, its updates are forwarded to libcrypto
// (a pull's layer goes as fast as before; a pull loads libcrypto through libcurl anyway). As
// image/curl_dl.cpp does for libcurl, this file defines the OpenSSL functions berthd's libraries
// call (agent/api, image/), with OpenSSL's own names and signatures; the callers are unchanged,
// and berthd is linked without libcrypto (--as-needed drops it). Other binaries (the berth CLI,
// tests) link libcrypto itself. If libcrypto cannot be loaded the error is logged (ENOPKG,
// naming the library and its package) and berthd aborts: its callers (SigV4's HMAC, the
// metadata ids) do not all check OpenSSL's return values, and a hash that silently came out as
// zeros would let any request's signature and any container's metadata id be guessed. Failing
// closed by ending the process is the one safe answer; systemd restarts berthd and its
// containers keep running under berth-supervisor. CRYPTO_memcmp is a constant-time compare
// written here: it needs no library.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include "base/dl.hpp"
#include "base/log.hpp"

namespace {

constexpr const char* soname = "libcrypto.so.3"; // Debian 12's libssl3, as linked before

struct Api {
    decltype(&::SHA256_Update) sha256_update = nullptr;
    decltype(&::EVP_sha256) evp_sha256 = nullptr;
    decltype(&::HMAC) hmac = nullptr;
};

berth::Result<void> bind_all(void* l, Api& a)
{
    for (auto r : {berth::bind_symbol(l, soname, "SHA256_Update", a.sha256_update),
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

// SHA-256's compression, written out (FIPS 180-4, 6.2.2) for the small hashes.
constexpr std::array<std::uint32_t, 64> k256 = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotr(std::uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32U - n));
}

std::uint32_t load_be(const unsigned char* p)
{
    // NOLINTBEGIN(cppcoreguidelines-pro-bounds-pointer-arithmetic): four bytes of a block
    return (std::uint32_t{p[0]} << 24U) | (std::uint32_t{p[1]} << 16U) |
           (std::uint32_t{p[2]} << 8U) | std::uint32_t{p[3]};
    // NOLINTEND(cppcoreguidelines-pro-bounds-pointer-arithmetic)
}

void store_be(unsigned char* p, std::uint32_t v)
{
    // NOLINTBEGIN(cppcoreguidelines-pro-bounds-pointer-arithmetic): four bytes of the output
    p[0] = static_cast<unsigned char>(v >> 24U);
    p[1] = static_cast<unsigned char>(v >> 16U);
    p[2] = static_cast<unsigned char>(v >> 8U);
    p[3] = static_cast<unsigned char>(v);
    // NOLINTEND(cppcoreguidelines-pro-bounds-pointer-arithmetic)
}

void compress(SHA256_CTX& c, const unsigned char* block)
{
    std::array<std::uint32_t, 64> w{};
    for (std::size_t i = 0; i < 16; ++i)
        w[i] = load_be(block + 4 * i); // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    for (std::size_t i = 16; i < 64; ++i) {
        const auto s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3U);
        const auto s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10U);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::array<std::uint32_t, 8> v{};
    std::memcpy(v.data(), static_cast<const void*>(c.h), sizeof(c.h));
    for (std::size_t i = 0; i < 64; ++i) {
        const auto [a, b, cc, d, e, f, g, h] = v;
        const auto t1 =
            h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k256[i] + w[i];
        const auto t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        v = {t1 + t2, a, b, cc, d + t1, e, f, g};
    }
    for (std::size_t i = 0; i < 8; ++i)
        c.h[i] += v[i]; // NOLINT(cppcoreguidelines-pro-bounds-constant-array-index)
}

// From this much on (already hashed, or in one update), a context goes on in libcrypto.
constexpr std::size_t bulk = std::size_t{64} * 1024;
// A block, as a size (OpenSSL's SHA256_CBLOCK is an int product).
constexpr std::size_t block_size = 64;
static_assert(block_size == SHA256_CBLOCK);

bool is_bulk(const SHA256_CTX& c, std::size_t len)
{
    return len >= bulk || c.Nh != 0 || c.Nl >= bulk * 8;
}

} // namespace

extern "C" {

int SHA256_Init(SHA256_CTX* c)
{
    *c = SHA256_CTX{};
    constexpr std::array<std::uint32_t, 8> iv = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::memcpy(static_cast<void*>(c->h), iv.data(), sizeof(c->h));
    c->md_len = SHA256_DIGEST_LENGTH;
    return 1;
}

// OpenSSL's own bookkeeping (md32_common.h): Nl/Nh count bits, data buffers num bytes.
int SHA256_Update(SHA256_CTX* c, const void* data, size_t len)
{
    if (len == 0)
        return 1;
    if (is_bulk(*c, len))
        return api().sha256_update(c, data, len);
    const auto bits = static_cast<std::uint64_t>(len) << 3U;
    const auto low = static_cast<SHA_LONG>((c->Nl + bits) & 0xffffffffU);
    if (low < c->Nl)
        ++c->Nh;
    c->Nh += static_cast<SHA_LONG>(len >> 29U);
    c->Nl = low;
    const auto* in = static_cast<const unsigned char*>(data);
    auto* buffer = reinterpret_cast<unsigned char*>(c->data); // NOLINT: OpenSSL's byte buffer
    while (len > 0) {
        const std::size_t take = std::min<std::size_t>(len, block_size - c->num);
        std::memcpy(buffer + c->num, in, take); // NOLINT(cppcoreguidelines-pro-bounds-*)
        c->num += static_cast<unsigned int>(take);
        in += take; // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
        len -= take;
        if (c->num == block_size) {
            compress(*c, buffer);
            c->num = 0;
        }
    }
    return 1;
}

int SHA256_Final(unsigned char* md, SHA256_CTX* c)
{
    auto* buffer = reinterpret_cast<unsigned char*>(c->data); // NOLINT: OpenSSL's byte buffer
    std::size_t n = c->num;
    buffer[n++] = 0x80; // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    if (n > block_size - 8) {
        std::memset(buffer + n, 0, block_size - n); // NOLINT(cppcoreguidelines-pro-bounds-*)
        compress(*c, buffer);
        n = 0;
    }
    std::memset(buffer + n, 0, block_size - 8 - n); // NOLINT(cppcoreguidelines-pro-bounds-*)
    store_be(buffer + block_size - 8, c->Nh);       // NOLINT(cppcoreguidelines-pro-bounds-*)
    store_be(buffer + block_size - 4, c->Nl);       // NOLINT(cppcoreguidelines-pro-bounds-*)
    compress(*c, buffer);
    for (std::size_t i = 0; i < 8; ++i)
        store_be(md + 4 * i, c->h[i]); // NOLINT(cppcoreguidelines-pro-bounds-*)
    *c = SHA256_CTX{};                 // as OpenSSL, nothing of the input stays in the context
    return 1;
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
