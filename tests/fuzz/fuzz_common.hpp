// tests/fuzz/fuzz_common.hpp — what every libFuzzer harness shares: the input cap, property
// checks that crash loudly (so libFuzzer saves the input), and the error-message property.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include "base/result.hpp"

namespace berth::fuzz {

// Larger inputs return early: the parsers cap their input themselves (max_spec_bytes,
// max_state_bytes, read caps), and megabyte inputs only slow the search down.
inline constexpr std::size_t max_input = std::size_t{1024} * 1024;

inline std::string_view as_text(const std::uint8_t* data, std::size_t size)
{
    return {reinterpret_cast<const char*>(data), size};
}

// A broken property is a bug like a crash: print what broke and abort, so libFuzzer keeps the
// input as a crash-* artifact.
inline void require(bool holds, const char* property)
{
    if (!holds) {
        std::fprintf(stderr, "fuzz property violated: %s\n", property);
        std::abort();
    }
}

// Every refusal must say what was wrong: an empty context would reach the user as ": ".
inline void require_explained(const Error& error)
{
    require(!error.context.empty(), "an error has a non-empty context");
    require(!error.message().empty(), "an error has a non-empty message");
    require(error.code != 0, "an error has an errno (EINVAL for bad input)");
}

} // namespace berth::fuzz
