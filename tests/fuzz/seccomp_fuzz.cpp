// tests/fuzz/seccomp_fuzz.cpp — a seccomp profile (untrusted: linux.seccomp of a bundle, or a
// profile file an operator passes on) -> parse_spec of a config holding only that profile.
// The input is the JSON value of "seccomp", so the search spends its time inside the profile
// and not on the surrounding document. An accepted profile is also translated to a BPF program
// with compile_seccomp() (never loaded): what is accepted must be loadable, i.e. have
// 1..BPF_MAXINSNS instructions.
#include <cstddef>
#include <cstdint>
#include <string>
#include "runtime/internal.hpp"
#include "runtime/spec.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    // The least config parse_spec accepts (a mount namespace is required) around the profile.
    std::string config = R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},)"
                         R"("linux":{"namespaces":[{"type":"mount"}],"seccomp":)";
    config.append(fuzz::as_text(data, size));
    config += "}}";

    auto spec = runtime::parse_spec(config);
    if (!spec) {
        fuzz::require_explained(spec.error());
        return 0;
    }
    if (!spec->linux.seccomp)
        return 0; // e.g. "null"
    const auto& seccomp = *spec->linux.seccomp;
    for (const auto& rule : seccomp.syscalls) {
        fuzz::require(!rule.names.empty(), "an accepted seccomp rule names a syscall");
        for (const auto& arg : rule.args)
            fuzz::require(arg.index <= 5, "a seccomp argument index is 0..5");
    }
    auto program = runtime::compile_seccomp(seccomp);
    if (!program) {
        fuzz::require_explained(program.error()); // e.g. a syscall name no architecture has
        return 0;
    }
    fuzz::require(!program->filter.empty() && program->filter.size() <= BPF_MAXINSNS,
                  "a compiled filter has 1..BPF_MAXINSNS instructions");
    return 0;
}
