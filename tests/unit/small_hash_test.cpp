#define BOOST_TEST_MODULE small_hash
// base/small_hash.hpp: the kernel's SHA-256 and HMAC-SHA256 (AF_ALG) and libmd's give the
// FIPS 180 and RFC 4231 digests, pieces hash as their concatenation, the fallback gives the same
// digests, and a kernel that cannot serve is a clear error. The kernel cases need AF_ALG: where
// this kernel has none they are skipped, unless BERTH_REQUIRE_AF_ALG=1 (the VM tier's
// small_hash_af_alg, on Debian's kernel) makes them run and fail.
#include <cerrno>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>
#include <boost/test/unit_test.hpp>
#include "base/small_hash.hpp"

namespace utf = boost::unit_test;
namespace hash = berth::small_hash;

namespace {

std::string show(const berth::Result<hash::Digest>& digest)
{
    return digest ? hash::hex(*digest) : "error: " + digest.error().message();
}

std::string show(const hash::Digest& digest)
{
    return hash::hex(digest);
}

bool kernel_serves()
{
    return hash::kernel_sha256({"abc"}).has_value();
}

// The kernel cases' precondition: AF_ALG answers, or the run requires it to.
boost::test_tools::assertion_result kernel_cases_run(utf::test_unit_id /*unused*/)
{
    const char* required = std::getenv("BERTH_REQUIRE_AF_ALG");
    if (kernel_serves() || (required != nullptr && std::string(required) == "1"))
        return true;
    boost::test_tools::assertion_result skip(false);
    skip.message() << "this kernel has no AF_ALG hash sockets: "
                   << hash::kernel_sha256({}).error().message();
    return skip;
}

const std::string million_a(1000000, 'a'); // FIPS 180-2's long vector, 245 pages

// One MiB of a non-repeating pattern: 256 pages, more than algif_hash takes in one step.
std::string one_mib()
{
    std::string out(1U << 20U, '\0');
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<char>(i * 7 % 251);
    return out;
}

const std::string key_131(131, '\xaa'); // RFC 4231 cases 6 and 7: longer than the block
const std::string case_6 = "Test Using Larger Than Block-Size Key - Hash Key First";
const std::string case_7 = "This is a test using a larger than block-size key and a larger than "
                           "block-size data. The key needs to be hashed before being used by the "
                           "HMAC algorithm.";

constexpr const char* empty_sha =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* abc_sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* two_block_sha =
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr const char* million_a_sha =
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
constexpr const char* one_mib_sha =
    "e76e4c02227083fd12207b7bc85287bb9e02a618fed3bd8eab1bc2daeda2fb53";
constexpr const char* two_block_text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

constexpr const char* hmac_case_1 =
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
constexpr const char* hmac_case_2 =
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
constexpr const char* hmac_case_3 =
    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe";
constexpr const char* hmac_case_6 =
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
constexpr const char* hmac_case_7 =
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2";
constexpr const char* hmac_empty =
    "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";

// The FIPS 180 and RFC 4231 vectors through one implementation's sha256 and hmac_sha256.
template <class Sha256>
void check_fips_180(Sha256 sha256)
{
    BOOST_TEST(show(sha256({})) == empty_sha);
    BOOST_TEST(show(sha256({"abc"})) == abc_sha);
    BOOST_TEST(show(sha256({two_block_text})) == two_block_sha);
    BOOST_TEST(show(sha256({million_a})) == million_a_sha);
    BOOST_TEST(show(sha256({one_mib()})) == one_mib_sha);
}

template <class HmacSha256>
void check_rfc_4231(HmacSha256 hmac)
{
    BOOST_TEST(show(hmac(std::string(20, '\x0b'), {"Hi There"})) == hmac_case_1);
    BOOST_TEST(show(hmac("Jefe", {"what do ya want for nothing?"})) == hmac_case_2);
    BOOST_TEST(show(hmac(std::string(20, '\xaa'), {std::string(50, '\xdd')})) == hmac_case_3);
    BOOST_TEST(show(hmac(key_131, {case_6})) == hmac_case_6);
    BOOST_TEST(show(hmac(key_131, {case_7})) == hmac_case_7);
    BOOST_TEST(show(hmac("", {})) == hmac_empty);
}

} // namespace

BOOST_AUTO_TEST_SUITE(libmd)

BOOST_AUTO_TEST_CASE(sha256_gives_the_fips_180_digests)
{
    check_fips_180(hash::libmd_sha256);
    BOOST_TEST(show(hash::libmd_sha256({""})) == empty_sha);
}

BOOST_AUTO_TEST_CASE(hmac_gives_the_rfc_4231_digests_for_short_and_long_keys)
{
    check_rfc_4231(hash::libmd_hmac_sha256);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(kernel, *utf::precondition(kernel_cases_run))

BOOST_AUTO_TEST_CASE(sha256_gives_the_fips_180_digests)
{
    check_fips_180([](hash::Pieces m) { return hash::kernel_sha256(m); });
    BOOST_TEST(show(hash::kernel_sha256({"", ""})) == empty_sha);
}

BOOST_AUTO_TEST_CASE(hmac_gives_the_rfc_4231_digests_for_short_and_long_keys)
{
    check_rfc_4231(
        [](std::string_view k, hash::Pieces m) { return hash::kernel_hmac_sha256(k, m); });
}

BOOST_AUTO_TEST_CASE(pieces_in_several_sends_hash_as_their_concatenation)
{
    // 40 pieces: three sends, two with MSG_MORE; empty pieces are skipped.
    std::string whole;
    std::vector<std::string> parts;
    for (int i = 0; i < 40; ++i)
        whole += parts.emplace_back(static_cast<std::size_t>(i % 3 == 0 ? 0 : 97 * i), 'x');
    const auto& p = parts;
    const auto pieces =
        hash::kernel_sha256({p[0],  p[1],  p[2],  p[3],  p[4],  p[5],  p[6],  p[7],  p[8],  p[9],
                             p[10], p[11], p[12], p[13], p[14], p[15], p[16], p[17], p[18], p[19],
                             p[20], p[21], p[22], p[23], p[24], p[25], p[26], p[27], p[28], p[29],
                             p[30], p[31], p[32], p[33], p[34], p[35], p[36], p[37], p[38], p[39]});
    BOOST_TEST(show(pieces) == show(hash::libmd_sha256({whole})));
    BOOST_TEST(show(hash::kernel_hmac_sha256(key_131, {"Test Using ", "Larger Than Block-Size", "",
                                                       " Key - Hash Key First"})) == hmac_case_6);
}

BOOST_AUTO_TEST_CASE(threads_sharing_the_kept_transform_get_their_own_digests)
{
    std::vector<std::string> seen(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < seen.size(); ++t)
        threads.emplace_back([&seen, t] {
            for (int i = 0; i < 200; ++i) {
                const std::string text = "thread " + std::to_string(t);
                auto digest = hash::kernel_sha256({text});
                auto expected = hash::libmd_sha256({text});
                if (!digest || *digest != expected) {
                    seen[t] = show(digest);
                    return;
                }
            }
            seen[t] = "ok";
        });
    for (auto& thread : threads)
        thread.join();
    for (const auto& result : seen)
        BOOST_TEST(result == "ok");
}

BOOST_AUTO_TEST_CASE(dispatch_uses_the_kernel_while_it_serves)
{
    BOOST_TEST(show(hash::sha256({"abc"})) == abc_sha);
    BOOST_TEST(show(hash::hmac_sha256(key_131, {case_7})) == hmac_case_7);
    BOOST_TEST((hash::backend() == hash::Backend::Kernel));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(an_unknown_algorithm_is_an_error_naming_it_never_a_digest)
{
    const auto digest = hash::kernel_digest("no-such-hash", nullptr, {"abc"});
    BOOST_TEST_REQUIRE(!digest.has_value());
    // ENOENT from bind where AF_ALG exists; EAFNOSUPPORT from socket where it does not.
    BOOST_TEST((digest.error().code == ENOENT || digest.error().code == EAFNOSUPPORT));
    BOOST_TEST(digest.error().message().find("AF_ALG hash 'no-such-hash': ") == 0U);
    BOOST_TEST(hash::kernel_unavailable(digest.error().code));
}

BOOST_AUTO_TEST_CASE(an_empty_or_overlong_algorithm_name_is_refused_before_any_socket)
{
    const auto unnamed = hash::kernel_digest("", nullptr, {"abc"});
    BOOST_TEST_REQUIRE(!unnamed.has_value());
    BOOST_TEST(unnamed.error().code == EINVAL);
    BOOST_TEST(unnamed.error().message() == "AF_ALG hash: no algorithm name");

    const auto digest = hash::kernel_digest(std::string(64, 'h'), nullptr, {"abc"});
    BOOST_TEST_REQUIRE(!digest.has_value());
    BOOST_TEST(digest.error().code == ENAMETOOLONG);
    BOOST_TEST(digest.error().message().find("the name must be 1 to 63 bytes") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(transient_failures_do_not_count_as_a_kernel_without_af_alg)
{
    BOOST_TEST(!hash::kernel_unavailable(EMFILE));
    BOOST_TEST(!hash::kernel_unavailable(ENOMEM));
    BOOST_TEST(!hash::kernel_unavailable(EINTR));
    BOOST_TEST(!hash::kernel_unavailable(EMSGSIZE));
    BOOST_TEST(!hash::kernel_unavailable(ENAMETOOLONG)); // our bad name, not the kernel's lack
    BOOST_TEST(hash::kernel_unavailable(EAFNOSUPPORT));
    BOOST_TEST(hash::kernel_unavailable(EPERM));
}

BOOST_AUTO_TEST_SUITE_END()

// Last: use_libmd() switches the whole process.
BOOST_AUTO_TEST_SUITE(fallback)

BOOST_AUTO_TEST_CASE(without_the_kernel_the_same_digests_come_from_libmd)
{
    hash::use_libmd();
    BOOST_TEST((hash::backend() == hash::Backend::Libmd));
    BOOST_TEST(show(hash::sha256({})) == empty_sha);
    BOOST_TEST(show(hash::sha256({"a", "b", "c"})) == abc_sha);
    BOOST_TEST(show(hash::sha256({million_a})) == million_a_sha);
    BOOST_TEST(show(hash::hmac_sha256("Jefe", {"what do ya ", "want for nothing?"})) ==
               hmac_case_2);
    BOOST_TEST(show(hash::hmac_sha256(key_131, {case_6})) == hmac_case_6);
    BOOST_TEST(show(hash::hmac_sha256("", {})) == hmac_empty);
}

BOOST_AUTO_TEST_SUITE_END()
