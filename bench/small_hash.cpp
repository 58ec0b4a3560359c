// bench/small_hash.cpp — what a small digest costs through the kernel (AF_ALG) and through
// libmd (base/small_hash.hpp), for the shapes berthd hashes: an image name's record file
// (SHA-256 of ~40 bytes), a container's metadata id (HMAC of ~100 bytes), and the hashes of one
// SigV4-signed API request (SHA-256 of a 300-byte body and of a 600-byte canonical request,
// five HMACs). build/bench/small_hash_bench [-n N]; the kernel rows need AF_ALG.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include "base/small_hash.hpp"
#include "base/strings.hpp"

namespace hash = berth::small_hash;

namespace {

const std::string name = "docker.io/library/nginx:1.25-alpine-slim";
const std::string task =
    "arn:aws:ecs:us-east-1:000000000000:task/default/0f9e8d7c6b5a49382716\nweb";
const std::string key(64, 'k');
const std::string body(300, 'b');
const std::string canonical(600, 'c');

template <class Digest>
bool sigv4(Digest sha, bool (*hmac)(std::string_view, std::string_view))
{
    return sha(body) && sha(canonical) && hmac("AWS4secret", "20240501") &&
           hmac(key, "us-east-1") && hmac(key, "ecs") && hmac(key, "aws4_request") &&
           hmac(key, canonical);
}

bool kernel_sha(std::string_view m)
{
    return hash::kernel_sha256({m}).has_value();
}
bool kernel_hmac(std::string_view k, std::string_view m)
{
    return hash::kernel_hmac_sha256(k, {m}).has_value();
}
volatile unsigned char sink = 0; // keeps the digests from being optimised away
bool libmd_sha(std::string_view m)
{
    sink = hash::libmd_sha256({m})[0];
    return true;
}
bool libmd_hmac(std::string_view k, std::string_view m)
{
    sink = hash::libmd_hmac_sha256(k, {m})[0];
    return true;
}

template <class F>
void time_it(const char* what, int n, F f)
{
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i)
        if (!f()) {
            std::printf("%-34s failed\n", what);
            return;
        }
    const std::chrono::duration<double, std::micro> spent =
        std::chrono::steady_clock::now() - start;
    std::printf("%-34s %8.2f us\n", what, spent.count() / n);
}

} // namespace

int main(int argc, char** argv)
{
    const auto parsed = argc == 3 && std::strcmp(argv[1], "-n") == 0
                            ? berth::parse_int<int>(argv[2])
                            : std::optional<int>(argc == 1 ? 2000 : 0);
    const int n = parsed.value_or(0);
    if (n <= 0) {
        std::fprintf(stderr, "usage: small_hash_bench [-n N]\n");
        return 2;
    }
    if (auto probe = hash::kernel_sha256({}); !probe)
        std::printf("no kernel rows: %s\n", probe.error().message().c_str());
    else {
        time_it("kernel: image record name", n, [] { return kernel_sha(name); });
        time_it("kernel: metadata id (HMAC)", n, [] { return kernel_hmac(key, task); });
        time_it("kernel: one SigV4 request", n, [] { return sigv4(kernel_sha, kernel_hmac); });
    }
    time_it("libmd: image record name", n, [] { return libmd_sha(name); });
    time_it("libmd: metadata id (HMAC)", n, [] { return libmd_hmac(key, task); });
    time_it("libmd: one SigV4 request", n, [] { return sigv4(libmd_sha, libmd_hmac); });
    return 0;
}
