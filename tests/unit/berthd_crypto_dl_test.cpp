#define BOOST_TEST_MODULE berthd_crypto_dl
// berthd's libcrypto shim (agent/berthd/crypto_dl.cpp, compiled into this test as into berthd):
// small hashes are its own SHA-256 and load no libcrypto; bulk ones (64 KiB and more) go on in
// libcrypto mid-stream, and HMAC is libcrypto's; every one gives the FIPS 180-2 and RFC 4231
// vectors.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <dlfcn.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <algorithm>
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

std::string sha256(const std::string& text, std::size_t piece)
{
    SHA256_CTX ctx;
    BOOST_TEST_REQUIRE(SHA256_Init(&ctx) == 1);
    for (std::size_t at = 0; at < text.size(); at += piece)
        BOOST_TEST_REQUIRE(
            SHA256_Update(&ctx, text.data() + at, std::min(piece, text.size() - at)) == 1);
    std::array<unsigned char, SHA256_DIGEST_LENGTH> md{};
    BOOST_TEST_REQUIRE(SHA256_Final(md.data(), &ctx) == 1);
    return hex(md.data(), md.size());
}

} // namespace

// One case, in order: the "not loaded" assertions only hold before anything bulk was hashed.
BOOST_AUTO_TEST_CASE(small_hashes_load_no_libcrypto_and_bulk_ones_go_on_in_it_with_one_result)
{
    BOOST_TEST(!crypto_loaded());
    const std::string a = "abc", b = "abd";
    BOOST_TEST(CRYPTO_memcmp(a.data(), a.data(), 3) == 0);
    BOOST_TEST(CRYPTO_memcmp(a.data(), b.data(), 3) != 0);
    BOOST_TEST(!crypto_loaded()); // the constant-time compare needs no library

    // FIPS 180-2 B.1, B.2 and the empty string, in pieces that cross block boundaries.
    const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    for (const std::size_t piece : {1U, 3U, 63U, 64U, 65U}) {
        BOOST_TEST(sha256("abc", piece) ==
                   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        BOOST_TEST(sha256(two_blocks, piece) ==
                   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        BOOST_TEST(sha256(two_blocks + two_blocks, piece) ==
                   "59f109d9533b2b70e7c3b814a2bd218f78ea5d3714455bc67987cf0d664399cf");
    }
    BOOST_TEST(sha256("", 1) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    BOOST_TEST(!crypto_loaded()); // small hashes: berthd's own SHA-256

    // FIPS 180-2 B.3, a million "a": in 1000-byte pieces it starts here and goes on in
    // libcrypto at 64 KiB with 16 bytes buffered; at once, all of it in libcrypto; in 7-byte
    // pieces likewise at 64 KiB. One answer.
    const std::string million(1000000, 'a');
    const std::string expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    BOOST_TEST(sha256(million.substr(0, 65000), 1000) == sha256(million.substr(0, 65000), 65000));
    BOOST_TEST(!crypto_loaded()); // under 64 KiB
    BOOST_TEST(sha256(million, 1000) == expected);
    BOOST_TEST(crypto_loaded());
    BOOST_TEST(sha256(million, million.size()) == expected);
    BOOST_TEST(sha256(million, 7) == expected);

    // RFC 4231 test case 2.
    std::array<unsigned char, SHA256_DIGEST_LENGTH> md{};
    const std::string key = "Jefe", data = "what do ya want for nothing?";
    unsigned int length = 0;
    BOOST_TEST(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                    reinterpret_cast<const unsigned char*>(data.data()), data.size(), md.data(),
                    &length) != nullptr);
    BOOST_TEST(length == 32U);
    BOOST_TEST(hex(md.data(), md.size()) ==
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
