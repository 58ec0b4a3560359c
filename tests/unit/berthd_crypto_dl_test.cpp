#define BOOST_TEST_MODULE berthd_crypto_dl
// berthd's libcrypto shim (agent/berthd/crypto_dl.cpp, compiled into this test as into berthd):
// libcrypto is not loaded until the first hash, and the forwarded functions give OpenSSL's
// results (FIPS 180-2 and RFC 4231 vectors).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <dlfcn.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <array>
#include <string>
#include <boost/test/unit_test.hpp>

namespace {

std::string hex(const unsigned char* bytes, std::size_t size)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[bytes[i] >> 4U]; // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
        out += digits[bytes[i] & 15U]; // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    }
    return out;
}

bool crypto_loaded()
{
    void* handle = ::dlopen("libcrypto.so.3", RTLD_NOW | RTLD_NOLOAD);
    if (handle != nullptr)
        ::dlclose(handle); // drops only the reference RTLD_NOLOAD took
    return handle != nullptr;
}

} // namespace

// One case, in order: the first assertion only holds before anything hashed.
BOOST_AUTO_TEST_CASE(libcrypto_loads_at_the_first_hash_and_gives_openssls_results)
{
    BOOST_TEST(!crypto_loaded());
    const std::string a = "abc", b = "abd";
    BOOST_TEST(CRYPTO_memcmp(a.data(), a.data(), 3) == 0);
    BOOST_TEST(CRYPTO_memcmp(a.data(), b.data(), 3) != 0);
    BOOST_TEST(!crypto_loaded()); // the constant-time compare needs no library

    SHA256_CTX ctx;
    BOOST_TEST(SHA256_Init(&ctx) == 1);
    BOOST_TEST(crypto_loaded());
    BOOST_TEST(SHA256_Update(&ctx, "ab", 2) == 1);
    BOOST_TEST(SHA256_Update(&ctx, "c", 1) == 1);
    std::array<unsigned char, SHA256_DIGEST_LENGTH> md{};
    BOOST_TEST(SHA256_Final(md.data(), &ctx) == 1);
    BOOST_TEST(hex(md.data(), md.size()) ==
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    // RFC 4231 test case 2.
    const std::string key = "Jefe", data = "what do ya want for nothing?";
    unsigned int length = 0;
    BOOST_TEST(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                    reinterpret_cast<const unsigned char*>(data.data()), data.size(), md.data(),
                    &length) != nullptr);
    BOOST_TEST(length == 32U);
    BOOST_TEST(hex(md.data(), md.size()) ==
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
