// base/small_hash.hpp — one-shot SHA-256 and HMAC-SHA256 of small inputs: an image name's record
// file, the task metadata ids, SigV4 request signatures. Computed by the kernel's crypto API
// (AF_ALG sockets, algif_hash: "sha256", "hmac(sha256)"), which maps no library at all. Where
// the kernel cannot serve (no AF_ALG: a kernel built without it, as this CI machine's, a seccomp
// filter or LSM refusing the family; an algorithm it lacks), the same digest comes from libmd
// (the BSD message-digest library dpkg depends on; linked statically). Either way a node whose
// tasks use images it already holds never maps libcrypto, 1.6 MB of berthd's RSS for good
// (docs/BENCHMARKS.md, "Memory, fifth round"), and the digest is the right one: nothing here
// returns a zero or partial digest. Bulk data (layers, blobs) stays on image/'s streaming
// OpenSSL hash, which a pull loads with libcurl anyway.
// Thread-safe: any thread may call any function.
#pragma once
#include <array>
#include <initializer_list>
#include <string>
#include <string_view>
#include "base/result.hpp"

namespace berth::small_hash {

using Digest = std::array<unsigned char, 32>;
// The message is the concatenation of the pieces ({} and {""} are the empty message).
using Pieces = std::initializer_list<std::string_view>;

// The kernel's digest when it can give one, else libmd's. Never fail.
Digest sha256(Pieces message);
Digest hmac_sha256(std::string_view key, Pieces message); // any key length, as RFC 2104

std::string hex(const Digest& digest);        // 64 lowercase hex digits
std::string_view bytes(const Digest& digest); // the 32 raw bytes, viewed

enum class Backend { Kernel, Libmd };
// What sha256() and hmac_sha256() use now: Kernel until the kernel said it cannot (then
// Libmd for the process's life), or Libmd after use_libmd().
Backend backend();
// Libmd from now on, for every thread: the tests' switch to the fallback path.
void use_libmd();

// The two implementations, for tests and diagnosis.
// AF_ALG with the kernel's algorithm of that name (key: set with ALG_SET_KEY; nullptr for an
// unkeyed hash). Errors name the algorithm and the step: EAFNOSUPPORT (no AF_ALG in this kernel
// or process), ENOENT (no such algorithm, or algif_hash not loadable), EPERM/EACCES (refused by
// a seccomp filter or an LSM), ENAMETOOLONG (an algorithm name over 63 bytes; EINVAL: none),
// EMSGSIZE (the kernel took less than the whole message), EIO (a short digest).
Result<Digest> kernel_digest(std::string_view algorithm, const std::string_view* key,
                             Pieces message);
Result<Digest> kernel_sha256(Pieces message);
Result<Digest> kernel_hmac_sha256(std::string_view key, Pieces message);
// True for the errors above that say the kernel will never serve this algorithm here.
bool kernel_unavailable(int code);
// libmd's SHA256Init/Update/Final (HMAC as RFC 2104 builds it on them).
Digest libmd_sha256(Pieces message);
Digest libmd_hmac_sha256(std::string_view key, Pieces message);

} // namespace berth::small_hash
